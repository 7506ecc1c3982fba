"""PostgreSQL, Redis and RabbitMQ for the tests that need them: skipped locally when absent, failed in CI.

A test needing a service calls `require(...)`: on a developer's machine
without it the test is skipped with the reason shown; with `CI` set it fails,
so a CI run can never pass by skipping.
"""
import os
import socket
import uuid
from contextlib import contextmanager
from typing import Iterator

import psycopg2
import pytest

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
REDIS = {"host": "127.0.0.1", "port": 6379}
RABBITMQ = {"host": "127.0.0.1", "port": 5672}


def reachable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def require(name: str, host: str, port: int) -> None:
    if not reachable(host, port):
        message = f"{name} is needed on {host}:{port} and is not running"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: a missing service fails the run)")
        pytest.skip(message)


def require_postgres() -> None:
    require("PostgreSQL", POSTGRES["host"], POSTGRES["port"])


def require_redis() -> None:
    require("Redis", REDIS["host"], REDIS["port"])


def require_rabbitmq() -> None:
    require("RabbitMQ", RABBITMQ["host"], RABBITMQ["port"])


def postgres_admin(statement: str) -> None:
    connection = psycopg2.connect(**POSTGRES)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextmanager
def postgres_database(prefix: str = "avera_test") -> Iterator[str]:
    """A new, empty PostgreSQL database of its own, dropped afterwards."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
