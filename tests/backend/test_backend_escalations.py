"""The hand-off queue's API: the escalation life cycle and who may do what.

Agents are created with `python -m bot.cli create-agent` (the operator's command) and sign in
with a cookie jar of their own, like two browsers. Every refusal is checked to change nothing.
The backends here have no Rasa behind them, so a reply or a resolve answers 503 and changes
nothing; tests/e2e/test_handoff.py covers replies and resumes on a real stack.
"""
import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Dict

import aiohttp
import pytest

from tests.backend.conftest import REPO_ROOT

pytestmark = pytest.mark.asyncio

AGENT_PASSWORD = "Correct-Horse-Battery-9"
_created: Dict[str, Dict[str, str]] = {}


def create_agent(database_url: str, username: str, display_name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "create-agent", username, "--display-name", display_name],
        input=AGENT_PASSWORD + "\n", capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "BACKEND_DATABASE_URL": database_url,
             "RASA_TELEMETRY_ENABLED": "false"},
    )


@pytest.fixture
def agent_names(backend, api):
    """Two agents of this backend's database, made once with the CLI: {'alice': username, 'bob': username}."""
    if backend.url not in _created:
        names = {}
        for who, display in (("alice", "Alice Agent"), ("bob", "Bob Agent"), ("locky", "Locky Agent")):
            username = f"{who}.{api.unique()}"
            done = create_agent(backend.database_url, username, display)
            assert done.returncode == 0, done.stderr
            assert AGENT_PASSWORD not in done.stdout + done.stderr
            names[who] = username
        _created[backend.url] = names
    return _created[backend.url]


class Console:
    """One agent's browser: its own cookie jar, and the CSRF token the sign-in gave."""

    def __init__(self, base_url: str):
        self.base_url = base_url + "/api/v1"
        # unsafe: keep cookies for an IP-address host (127.0.0.1), as a browser does
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def sign_in(self, username: str, password: str = AGENT_PASSWORD):
        status, body = await self.call("POST", "/agent/sign-in", {"username": username, "password": password})
        if status == 200:
            self.csrf = body["csrf_token"]
        return status, body

    async def call(self, method: str, path: str, body=None, csrf: bool = True):
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        async with self.http.request(method, self.base_url + path, json=body, headers=headers) as reply:
            return reply.status, await reply.json()

    async def close(self):
        await self.http.close()


@pytest.fixture
async def consoles(backend):
    opened = []

    def open_console() -> Console:
        console = Console(backend.url)
        opened.append(console)
        return console

    yield open_console
    for console in opened:
        await console.close()


async def new_escalation(api, **fields) -> Dict:
    body = {"conversation_id": f"conv-{api.unique()}", "channel": "socketio", "reason": "asked_for_person",
            "summary": {"topic": "mychart", "tried": ["access code reissue"], "answers": {"portal": "MyChart"}},
            "transcript": [{"sender": "user", "text": "I never got my access code"},
                           {"sender": "bot", "text": "I can send a new one."}], **fields}
    reply = await api.post("/escalations", body, token="actions")
    assert reply.status == 201, reply.body
    assert reply.body["reference"].startswith("HD-")
    return {**body, **reply.body}


async def state_of(db, escalation_id: int):
    rows = await db.rows("SELECT status, claimed_by, resolved_at FROM escalations WHERE id = :id", id=escalation_id)
    messages = await db.scalar("SELECT COUNT(*) FROM escalation_messages WHERE escalation_id = :id", id=escalation_id)
    return tuple(rows[0]), messages


async def test_an_agent_claims_reads_and_sees_member_messages_and_a_second_claim_is_refused(
        api, db, consoles, agent_names):
    escalation = await new_escalation(api)
    alice, bob = consoles(), consoles()
    assert (await alice.sign_in(agent_names["alice"]))[0] == 200
    assert (await bob.sign_in(agent_names["bob"]))[0] == 200

    status, queue = await alice.call("GET", "/escalations")
    assert status == 200
    listed = [row for row in queue["escalations"] if row["id"] == escalation["id"]]
    assert listed and listed[0]["status"] == "queued" and listed[0]["channel"] == "socketio"
    created = [row["created_at"] for row in queue["escalations"]]
    assert created == sorted(created), "oldest first"

    status, claimed = await alice.call("POST", f"/escalations/{escalation['id']}/claim")
    assert status == 200 and claimed["claimed_by"]["display_name"] == "Alice Agent"
    assert claimed["transcript"][0]["text"] == "I never got my access code"
    assert claimed["summary"]["tried"] == ["access code reissue"]
    before = await state_of(db, escalation["id"])

    status, body = await bob.call("POST", f"/escalations/{escalation['id']}/claim")
    assert status == 409 and body["error"]["code"] == "not_waiting"
    for action, payload in (("reply", {"text": "Bob here"}), ("resolve", {"note": "done"}), ("hand-back", {})):
        status, body = await bob.call("POST", f"/escalations/{escalation['id']}/{action}", payload)
        assert status == 403 and body["error"]["code"] == "claimed_by_another", action
    assert await state_of(db, escalation["id"]) == before

    # What the member writes while paused reaches the escalation, once even if delivered twice.
    relay = {"conversation_id": escalation["conversation_id"], "text": "Are you still there?", "event_key": "k-" + api.unique()}
    assert (await api.post("/escalations/user-messages", relay, token="actions")).status == 201
    assert (await api.post("/escalations/user-messages", relay, token="actions")).body == {"status": "ignored"}
    status, detail = await alice.call("GET", f"/escalations/{escalation['id']}")
    assert [(m["sender"], m["text"]) for m in detail["messages"]] == [("user", "Are you still there?")]


async def test_reply_and_resolve_change_nothing_when_rasa_cannot_deliver(api, db, consoles, agent_names):
    escalation = await new_escalation(api)
    alice = consoles()
    await alice.sign_in(agent_names["alice"])
    await alice.call("POST", f"/escalations/{escalation['id']}/claim")
    before = await state_of(db, escalation["id"])
    status, body = await alice.call("POST", f"/escalations/{escalation['id']}/reply", {"text": "Hello"})
    assert status == 503 and "not reachable" in body["error"]["message"]
    status, _ = await alice.call("POST", f"/escalations/{escalation['id']}/resolve", {"note": "sorted"})
    assert status == 503
    assert await state_of(db, escalation["id"]) == before


async def test_no_session_an_expired_session_and_a_missing_csrf_token_are_refused(api, db, consoles, agent_names):
    escalation = await new_escalation(api)
    before = await state_of(db, escalation["id"])
    anonymous = consoles()
    assert (await anonymous.call("GET", "/escalations"))[0] == 401
    assert (await anonymous.call("POST", f"/escalations/{escalation['id']}/claim"))[0] == 401
    # A bearer token is not an agent session.
    assert (await api.post(f"/escalations/{escalation['id']}/claim", {}, token="admin")).status == 401

    alice = consoles()
    await alice.sign_in(agent_names["alice"])
    status, body = await alice.call("POST", f"/escalations/{escalation['id']}/claim", csrf=False)
    assert status == 403 and body["error"]["code"] == "csrf"
    alice_csrf, alice.csrf = alice.csrf, "not-the-token"
    assert (await alice.call("POST", f"/escalations/{escalation['id']}/claim"))[0] == 403
    alice.csrf = alice_csrf
    assert await state_of(db, escalation["id"]) == before

    # Idle longer than AGENT_IDLE_MINUTES (30 by default): the session is over.
    agent_id = await db.scalar("SELECT id FROM agents WHERE username = :u", u=agent_names["alice"])
    await db.execute("UPDATE agent_sessions SET last_seen_at = :t WHERE agent_id = :a",
                     t=datetime.utcnow() - timedelta(minutes=31), a=agent_id)
    status, body = await alice.call("POST", f"/escalations/{escalation['id']}/claim")
    assert status == 401 and body["error"]["code"] == "not_signed_in"
    assert (await alice.call("GET", "/escalations"))[0] == 401
    assert await state_of(db, escalation["id"]) == before


async def test_sign_out_ends_the_session(consoles, agent_names):
    alice = consoles()
    await alice.sign_in(agent_names["alice"])
    assert (await alice.call("GET", "/agent/session"))[0] == 200
    assert (await alice.call("POST", "/agent/sign-out", {}))[0] == 200
    assert (await alice.call("GET", "/agent/session"))[0] == 401


async def test_the_session_cookie_is_httponly_and_samesite_strict(backend, http, agent_names):
    async with http.post(backend.url + "/api/v1/agent/sign-in",
                         json={"username": agent_names["alice"], "password": AGENT_PASSWORD}) as reply:
        assert reply.status == 200
        cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # BACKEND_PUBLIC_URL is http here; https adds it


async def test_repeated_wrong_passwords_lock_the_account_and_unknown_names_answer_alike(consoles, agent_names, db):
    console = consoles()
    statuses = [(await console.sign_in(agent_names["locky"], "wrong-password-123"))[0] for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    status, body = await console.sign_in(agent_names["locky"])  # the right password, while locked
    assert status == 423 and body["error"]["code"] == "account_locked"
    unknown_status, unknown = await console.sign_in("nobody-" + agent_names["locky"], "wrong-password-123")
    wrong_status, wrong = await consoles().sign_in(agent_names["alice"], "wrong-password-123")
    assert unknown_status == wrong_status == 401 and unknown == wrong
    stored = await db.scalar("SELECT password_hash FROM agents WHERE username = :u", u=agent_names["alice"])
    assert stored.startswith("$argon2id$")


async def test_state_changes_are_audited_without_message_text(api, db, consoles, agent_names):
    escalation = await new_escalation(api)
    alice = consoles()
    await alice.sign_in(agent_names["alice"])
    await alice.call("POST", f"/escalations/{escalation['id']}/claim")
    secret_words = f"my dog is called {api.unique()}"
    await api.post("/escalations/user-messages", {"conversation_id": escalation["conversation_id"],
                                                  "text": secret_words, "event_key": "k-" + api.unique()},
                   token="actions")
    rows = await db.rows("SELECT actor, action, agent_id FROM audit_log WHERE object_type = 'escalation' "
                         "AND object_id = :id ORDER BY id", id=str(escalation["id"]))
    agent_id = await db.scalar("SELECT id FROM agents WHERE username = :u", u=agent_names["alice"])
    assert [tuple(r) for r in rows] == [("actions", "escalation.created", None),
                                        ("agent", "escalation.claimed", agent_id),
                                        ("actions", "escalation.user_message", None)]
    assert await db.tables_containing(secret_words) == ["escalation_messages"]


async def test_invalid_escalations_are_a_422_and_need_the_actions_token(api):
    reply = await api.post("/escalations", {"conversation_id": "x", "channel": "socketio", "reason": "r",
                                            "transcript": [{"sender": "hacker", "text": "x"}]}, token="actions")
    assert reply.status == 422 and "transcript" in reply.body["error"]["fields"]
    reply = await api.post("/escalations", {"channel": "socketio"}, token="actions")
    assert reply.status == 422 and {"conversation_id", "reason"} <= set(reply.body["error"]["fields"])
    assert (await api.post("/escalations", {}, token=None)).status == 401


NO_ROW_IDS = ("abc", "0", "-1", "1.5", "\u0663", "309123157658175344281124864")  # last: beyond a 64-bit key


async def test_an_id_no_escalation_can_have_is_not_found_not_a_server_error(consoles, agent_names):
    alice = consoles()
    await alice.sign_in(agent_names["alice"])
    for bad_id in NO_ROW_IDS:
        status, body = await alice.call("GET", f"/escalations/{bad_id}")
        assert status == 404 and body["error"]["code"] == "not_found", bad_id


async def test_the_console_stream_shows_new_escalations_and_member_messages_live(api, backend, consoles, agent_names):
    alice = consoles()
    await alice.sign_in(agent_names["alice"])
    async with alice.http.get(backend.url + "/api/v1/escalations/stream") as stream:
        assert stream.status == 200 and stream.content_type == "text/event-stream"
        assert (await stream.content.readuntil(b"\n\n")).startswith(b"retry:")
        escalation = await new_escalation(api)
        await api.post("/escalations/user-messages", {"conversation_id": escalation["conversation_id"],
                                                      "text": "hello?", "event_key": "k-" + api.unique()},
                       token="actions")
        seen = []
        while len(seen) < 2:
            block = (await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 10)).decode()
            fields = dict(line.split(": ", 1) for line in block.strip().splitlines() if not line.startswith(":"))
            data = json.loads(fields["data"])
            if data.get("id") == escalation["id"] or data.get("escalation_id") == escalation["id"]:
                seen.append((fields["event"], data.get("reference") or data.get("text")))
    assert seen == [("escalation", escalation["reference"]), ("message", "hello?")]
