"""The scale profile: Rasa keeps conversations in PostgreSQL and locks in Redis.

Two Rasa servers share one PostgreSQL tracker store and one Redis lock
store (endpoints.scale.yml), as replicas behind a load balancer would: a
conversation started on one continues on the other.
"""
import asyncio
import socket
import uuid

import asyncpg
import pytest

from bot.cli import ROOT, free_port, model_path, rasa_service
from tests.e2e.conftest import MYCHART_PHONE, Chat

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}


def reachable(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


pytestmark = pytest.mark.skipif(
    not (reachable(5432) and reachable(6379)), reason="PostgreSQL on :5432 and Redis on :6379 are needed"
)


def run(coroutine):
    return asyncio.new_event_loop().run_until_complete(coroutine)


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(**POSTGRES)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def stored_user_messages(database: str, sender: str) -> int:
    connection = await asyncpg.connect(**{**POSTGRES, "database": database})
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM events WHERE sender_id = $1 AND type_name = 'user'", sender)
    finally:
        await connection.close()


@pytest.fixture
def tracker_database():
    name = f"avera_tracker_{uuid.uuid4().hex[:8]}"
    run(admin(f'CREATE DATABASE "{name}"'))
    yield name
    run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_two_replicas_share_conversations_in_postgresql(stack, tracker_database, tmp_path):
    env = {**stack.env,
           "ACTION_ENDPOINT_URL": f"{stack.actions_url}/webhook",
           "TRACKER_DB_HOST": POSTGRES["host"], "TRACKER_DB_PORT": str(POSTGRES["port"]),
           "TRACKER_DB_NAME": tracker_database, "TRACKER_DB_USER": POSTGRES["user"], "TRACKER_DB_PASSWORD": "",
           "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "1"}
    replicas = [rasa_service(model_path(), free_port(), ROOT / "endpoints.scale.yml", env, tmp_path / f"rasa{i}.log")
                for i in range(2)]
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_healthy(timeout=180)
        first, second = (Chat(stack) for _ in range(2))
        second.sender = first.sender
        first.url, second.url = (r.health_url.split("/status")[0] + "/webhooks/rest/webhook" for r in replicas)

        assert MYCHART_PHONE in first.say("i got locked out of mychart")
        assert MYCHART_PHONE in second.say("what number do i call?")  # context from the other replica
        assert run(stored_user_messages(tracker_database, first.sender)) == 2
    finally:
        for replica in replicas:
            replica.stop()
