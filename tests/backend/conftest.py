"""Fixtures for the backend tests: real `python -m bot.backend` processes on loopback ports,
on SQLite and on PostgreSQL, and direct database access to check what was stored."""
import asyncio
import concurrent.futures
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.cli import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "test-admin-token"
ACTIONS_TOKEN = "test-actions-token"
SECRET_KEY = "test-secret-key"
TOKENS = {"admin": ADMIN_TOKEN, "actions": ACTIONS_TOKEN}
POSTGRES_DSN = os.environ.get("BACKEND_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
START_TIMEOUT_SECONDS = 30


def unique() -> str:
    return uuid.uuid4().hex[:10]


def new_client_address() -> str:
    """A random address from the documentation range 198.18.0.0/15, one per simulated client."""
    return f"198.{random.randint(18, 19)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def run_coroutine(coroutine):
    """Run a coroutine on a private loop in a thread, leaving the test's event loop alone."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class BackendProcess:
    """`python -m bot.backend` in a temporary directory (so no .env is read), logging to a file."""

    def __init__(self, workdir: Path, database_url: str, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workdir = workdir
        self.log_path = workdir / f"backend-{self.port}.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SMTP_"))}
        self.env.update(
            PYTHONPATH=str(REPO_ROOT),
            BACKEND_HOST="127.0.0.1",
            BACKEND_PORT=str(self.port),
            BACKEND_DATABASE_URL=database_url,
            BACKEND_ADMIN_TOKEN=ADMIN_TOKEN,
            BACKEND_ACTIONS_TOKEN=ACTIONS_TOKEN,
            BACKEND_SECRET_KEY=SECRET_KEY,
            BACKEND_PUBLIC_URL=self.url,
            # Tests pose as many clients: the test process is the "proxy" that says which (X-Forwarded-For).
            TRUSTED_PROXIES="127.0.0.1",
            RASA_URL=f"http://127.0.0.1:{free_port()}",  # no Rasa there: agent replies answer 503
        )
        self.env.update(env)
        self.process: Optional[subprocess.Popen] = None

    def start(self, wait_for_status: Optional[int] = 200) -> "BackendProcess":
        """Start and wait until /healthz answers (with `wait_for_status`, or anything when None)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.backend"], cwd=self.workdir, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"backend exited with {self.process.returncode}:\n{self.log()}")
            status = self._health_status()
            if status is not None and (wait_for_status is None or status == wait_for_status):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"backend did not become ready:\n{self.log()}")

    def _health_status(self) -> Optional[int]:
        try:
            with urllib.request.urlopen(self.url + "/api/v1/healthz", timeout=5) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_once_it_has(self, text: str, timeout: float = 5.0) -> str:
        """The log, once `text` is in it: access lines are written just after the reply is sent."""
        deadline = time.monotonic() + timeout
        while text not in self.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.log()


async def postgres_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def drop_postgres_database(url: str) -> None:
    run_coroutine(postgres_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def postgres_database():
    """Create a uniquely named PostgreSQL database, yield its URL, drop it.

    Without a server the test skips with the reason, or fails when CI is set: no silent skips."""
    name = f"backend_test_{unique()}"
    try:
        run_coroutine(postgres_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # refused, timed out, or any PostgreSQL error: no server to test against
        missing = f"PostgreSQL at {POSTGRES_DSN} is unreachable ({type(error).__name__}: {error})"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; CI must test on PostgreSQL")
        pytest.skip(missing)
    url = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def postgres_url():
    """The database the shared PostgreSQL backend uses for this session."""
    yield from postgres_database()


@pytest.fixture
def own_postgres_url():
    """A database of the test's own, e.g. to drop it under a running backend."""
    yield from postgres_database()


@pytest.fixture
def drop_database():
    return drop_postgres_database


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory) -> BackendProcess:
    """The backend under test, once per database; tests use unique names so they can share it."""
    workdir = tmp_path_factory.mktemp(f"backend-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir}/backend.db"
    else:
        url = request.getfixturevalue("postgres_url")
    server = BackendProcess(workdir, url, BACKEND_DEMO_PORTAL="true").start()
    yield server
    server.stop()


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


class Api:
    """A client for one backend, with helpers for what many tests set up.

    Test modules reach every helper through this fixture (no `from conftest import`)."""

    secret_key = SECRET_KEY
    admin_token = ADMIN_TOKEN
    unique = staticmethod(unique)
    new_client_address = staticmethod(new_client_address)

    def __init__(self, session: aiohttp.ClientSession, base_url: str):
        self.session = session
        self.base_url = base_url
        # Each test is a client of its own, so that per-client limits do not spill between tests:
        # the address the action server forwards, and the one a trusted proxy forwards for public calls.
        self.client_address = new_client_address()

    @staticmethod
    def identity_of(patient: Dict[str, Any], **overrides) -> Dict[str, Any]:
        """The identity fields of a patient made by create_patient, with a conversation of their own."""
        fields = {k: patient[k] for k in ("first_name", "last_name", "date_of_birth", "email")}
        return {**fields, "conversation_id": f"conversation-{unique()}", **overrides}

    @staticmethod
    def link_token(body: str, path: str) -> str:
        """The token of the first link to `path` in an e-mail body."""
        match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-]+)", body)
        assert match, body
        return match.group(1)

    async def call(self, method: str, path: str, *, token: Optional[str] = "admin", json_body: Any = None,
                   data: Any = None, headers: Optional[Dict[str, str]] = None) -> Reply:
        sent_headers = {"X-Client-Address": self.client_address, "X-Forwarded-For": self.client_address,
                        **(headers or {})}
        if token:
            sent_headers["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        async with self.session.request(method, self.base_url + "/api/v1" + path, json=json_body, data=data,
                                        headers=sent_headers) as reply:
            raw = await reply.text()
            body = json.loads(raw) if reply.content_type == "application/json" else raw
            return Reply(reply.status, body, reply.headers)

    async def post(self, path: str, json_body: Any = None, **kwargs) -> Reply:
        return await self.call("POST", path, json_body=json_body, **kwargs)

    async def get(self, path: str, **kwargs) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def create_patient(self, **fields) -> Dict[str, Any]:
        """A new patient with unique names and e-mail; returns its fields and id."""
        uid = unique()
        patient = {
            "first_name": "Avery",
            "last_name": f"Tester{uid}",
            "date_of_birth": "1980-05-17",
            "email": f"avery.{uid}@example.org",
            "phone": "605-555-0150",
            "zip": "57104",
            **fields,
        }
        reply = await self.post("/patients", patient)
        assert reply.status == 201, reply.body
        return {**patient, "id": reply.body["id"]}

    async def outbox(self, to: str) -> List[Dict[str, Any]]:
        reply = await self.get("/outbox?to=" + urllib.parse.quote(to))
        assert reply.status == 200, reply.body
        return reply.body["messages"]

    async def site_request(self, key: Optional[str] = None, headers: Optional[Dict[str, str]] = None,
                           **fields) -> Reply:
        uid = unique()
        body = {
            "facility": f"Prairie Test Clinic {uid}",
            "facility_address": "100 Main St, Sioux Falls, SD 57104",
            "agreement_attachment_id": None,
            "administrators": [{"name": "Morgan Reyes", "email": f"morgan.{uid}@example.org", "role": "Provider"}],
            "terms_accepted": True,
            "requested_by": {"name": "Morgan Reyes", "email": f"morgan.{uid}@example.org"},
            **fields,
        }
        return await self.post("/site-requests", body, token="actions",
                               headers={"Idempotency-Key": key or f"key-{uid}", **(headers or {})})


@pytest_asyncio.fixture
async def http() -> aiohttp.ClientSession:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
def api(backend: BackendProcess, http: aiohttp.ClientSession) -> Api:
    return Api(http, backend.url)


@pytest.fixture
def api_for(http: aiohttp.ClientSession):
    """A client for a backend a test started itself."""
    return lambda server: Api(http, server.url)


@pytest.fixture
def start_backend(tmp_path):
    """Start a backend of the test's own (SQLite in tmp_path unless told otherwise); stopped afterwards."""
    started = []

    def start(database_url: Optional[str] = None, wait_for_status: Optional[int] = 200, **env: str):
        server = BackendProcess(tmp_path, database_url or f"sqlite+aiosqlite:///{tmp_path}/backend.db", **env)
        started.append(server)
        return server.start(wait_for_status)

    yield start
    for server in started:
        server.stop()


class Db:
    """Direct SQL on the backend's database, to check what it stored."""

    def __init__(self, url: str):
        self.engine = create_async_engine(url, poolclass=NullPool, future=True)

    async def rows(self, sql: str, **params) -> List[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def scalar(self, sql: str, **params) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def tables_containing(self, value: str) -> List[str]:
        """Every table with `value` anywhere in its rows: to prove secrets are stored hashed."""
        if self.engine.dialect.name == "sqlite":
            listing = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            listing = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        found = []
        for (table,) in await self.rows(listing):
            if value in repr([tuple(row) for row in await self.rows(f"SELECT * FROM {table}")]):
                found.append(table)
        return sorted(found)

    async def execute(self, sql: str, **params) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), params)


@pytest_asyncio.fixture
async def db(backend: BackendProcess) -> Db:
    database = Db(backend.database_url)
    yield database
    await database.engine.dispose()


@pytest_asyncio.fixture
async def db_for():
    """Direct SQL on the database of a backend a test started itself."""
    opened: List[Db] = []

    def open_for(server: BackendProcess) -> Db:
        opened.append(Db(server.database_url))
        return opened[-1]

    yield open_for
    for database in opened:
        await database.engine.dispose()
