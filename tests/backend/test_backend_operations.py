"""Running the backend: its own environment, health, migrations, restarts and signals, logs without
personal data, and no silent skips of the PostgreSQL cases in CI."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.backend.models import Base
from bot.cli import free_port

pytestmark = pytest.mark.asyncio
REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_health_reports_the_database(api):
    reply = await api.get("/healthz", token=None)
    assert (reply.status, reply.body) == (200, {"status": "ok", "database": "ok"})


async def test_the_migration_builds_exactly_the_models(db):
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync_conn: compare_metadata(MigrationContext.configure(sync_conn), Base.metadata)
        )
    assert differences == []


async def test_logs_hold_no_personal_data_codes_or_tokens(api, backend):
    patient = await api.create_patient(phone="605-555-0188")
    identity = api.identity_of(patient, phone=patient["phone"], conversation_id=f"c-{api.unique()}")
    for path in ("/access-codes/reissue", "/accounts/password-reset", "/accounts/username-reminder"):
        assert (await api.post(path, identity, token="actions")).status == 202
    await api.post("/accounts/login", {"username": patient["email"], "password": "wrong-password"}, token=None)
    await api.site_request(requester_email=patient["email"])
    secrets = []
    for message in await api.outbox(patient["email"]):
        secrets += re.findall(r"token=([\w-]+)", message["body"]) + re.findall(r"[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}",
                                                                              message["body"])
    assert secrets

    log = backend.log_once_it_has("GET /api/v1/outbox 200")
    assert "POST /api/v1/access-codes/reissue 202" in log  # INFO access logging is on...
    assert "GET /api/v1/outbox 200" in log  # ...without query strings
    personal = [patient["last_name"], patient["email"], patient["date_of_birth"], "605-555-0188", "6055550188"]
    assert [value for value in personal + secrets if value in log] == []
    assert "@example.org" not in log and "token=" not in log


async def test_data_survives_a_restart_and_signals_stop_it_cleanly(start_backend, api_for, tmp_path):
    server = start_backend()
    patient = await api_for(server).create_patient()
    assert server.stop(signal.SIGTERM) == 0

    restarted = start_backend(database_url=server.database_url)
    api = api_for(restarted)
    duplicate = await api.post("/patients", {**patient, "first_name": "Again"})
    assert duplicate.status == 409  # the account from before the restart is still there
    assert "seeded demo data" not in restarted.log()  # seeded once, on the first start only
    assert restarted.stop(signal.SIGINT) == 0
    assert "stopped" in restarted.log()


async def test_it_refuses_to_start_without_its_tokens(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "BACKEND_SECRET_KEY": "x",
           "BACKEND_ACTIONS_TOKEN": "y"}
    done = subprocess.run([sys.executable, "-m", "bot.backend"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode != 0
    assert "BACKEND_ADMIN_TOKEN" in done.stderr and "Traceback" not in done.stderr


async def test_health_is_503_while_the_database_is_unreachable(start_backend, api_for):
    closed_port = free_port()
    server = start_backend(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/none",
                           wait_for_status=None)
    api = api_for(server)
    health = await api.get("/healthz", token=None)
    assert (health.status, health.body) == (503, {"status": "unavailable", "database": "unreachable"})
    reply = await api.post("/patients", {})
    assert reply.status == 503 and reply.body["error"]["code"] == "unavailable"
    assert (await api.get("/openapi.json", token=None)).status == 200


async def test_health_is_503_once_the_database_is_gone(own_postgres_url, start_backend, api_for, drop_database):
    server = start_backend(database_url=own_postgres_url)
    api = api_for(server)
    assert (await api.get("/healthz", token=None)).status == 200
    drop_database(own_postgres_url)
    health = await api.get("/healthz", token=None)
    assert (health.status, health.body["database"]) == (503, "unreachable")
    created = await api.post("/patients", {"first_name": "A", "last_name": "B", "date_of_birth": "1980-01-01",
                                           "email": "a.b@example.org", "zip": "57104"})
    assert created.status == 503 and created.body["error"]["code"] == "unavailable"
    assert "Traceback" not in server.log_once_it_has("POST /api/v1/patients 503")


async def test_the_backend_serves_on_current_aiohttp_and_sqlalchemy_2_without_rasa(backend):
    """Its own environment: aiohttp with the request-smuggling fixes (3.10.11+), SQLAlchemy 2, no Rasa."""
    command_line = Path(f"/proc/{backend.process.pid}/cmdline").read_bytes().split(b"\0")
    assert command_line[0].decode() == sys.executable  # the interpreter whose packages are checked here
    assert tuple(int(part) for part in aiohttp.__version__.split(".")[:3]) >= (3, 10, 11)
    assert sqlalchemy.__version__.startswith("2.")
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, bot.backend.app, bot.backend.__main__; "
                               "print(sorted({m.split('.')[0] for m in sys.modules} & {'rasa', 'rasa_sdk', 'actions'}))"],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True, timeout=60)
    assert imported.stdout.strip() == "[]", imported.stderr


async def test_postgresql_tests_fail_rather_than_skip_in_ci():
    """No silent skips: with CI set and no PostgreSQL, a test that needs it fails (locally it skips)."""
    test = "tests/backend/test_backend_operations.py::test_health_reports_the_database[postgresql]"
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    outcomes = {}
    for ci in ("", "1"):
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CI": ci, "BACKEND_TEST_POSTGRES_DSN": unreachable}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", test],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        outcomes[ci] = (done.returncode, done.stdout)
    skipped_code, skipped_output = outcomes[""]
    assert skipped_code == 0 and "SKIPPED" in skipped_output and "unreachable" in skipped_output
    failed_code, failed_output = outcomes["1"]
    assert failed_code != 0 and "CI must test on PostgreSQL" in failed_output
