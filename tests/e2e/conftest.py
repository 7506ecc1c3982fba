"""The whole help desk on loopback for end-to-end tests: backend, actions, Rasa.

Started once per test session through the same `Stack` that `make run`
uses, with its own ports, tokens and SQLite files.
"""
import json
import random
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Dict, List, Optional

import pytest

from bot.cli import ROOT, Stack, isolated_stack, model_path
from bot.facts import facts, phone


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    model = model_path()
    if not model.exists():
        pytest.fail(f"No trained model at {model}: run `make train` first (make test does).")
    with isolated_stack(model, tmp_path_factory.mktemp("stack")) as running:
        yield running


HANDOFF_UNCLAIMED_SECONDS = 4


@pytest.fixture(scope="session")
def handoff_stack(tmp_path_factory):
    """A stack for the hand-off tests: chat agents always on, a short wait before the unclaimed notice."""
    work = tmp_path_factory.mktemp("handoff-stack")
    with isolated_stack(model_path(), work, settings={
        "HANDOFF_UNCLAIMED_SECONDS": str(HANDOFF_UNCLAIMED_SECONDS), "HELP_DESK_HOURS": "always",
    }) as running:
        running.tracker_db = work / "tracker.db"
        yield running


class Chat:
    """One member's conversation over the REST channel."""

    def __init__(self, stack: Stack):
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = f"test-{uuid.uuid4().hex[:10]}"
        # Each chat comes from an address of its own, forwarded as by a proxy (the stack trusts
        # 127.0.0.1 as one), so the backend's per-address limits do not add up across tests.
        self.client_address = f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"

    def say(self, message: str, metadata: Optional[Dict] = None) -> str:
        body = {"sender": self.sender, "message": message, **({"metadata": metadata} if metadata else {})}
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": self.client_address},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            replies: List[Dict] = json.loads(response.read() or b"[]")
        parts = []
        for reply in replies:
            parts.append(reply.get("text") or "")
            parts += [button["title"] for button in reply.get("buttons") or []]
        return "\n".join(p for p in parts if p)


@pytest.fixture
def chat(stack) -> Chat:
    return Chat(stack)


def backend_call(stack: Stack, method: str, path: str, body=None, token_name="BACKEND_ADMIN_TOKEN",
                 headers: Optional[Dict[str, str]] = None):
    request = urllib.request.Request(
        f"{stack.backend_url}/api/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.env[token_name]}",
                 **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def backend(stack):
    def call(method: str, path: str, body=None):
        return backend_call(stack, method, path, body)
    return call


@pytest.fixture
def new_patient(backend):
    """A patient with a portal account, unique to the test."""
    def create(**overrides):
        uid = uuid.uuid4().hex[:8]
        patient = {"first_name": "Dana", "last_name": f"Quill{uid}", "date_of_birth": "1984-02-29",
                   "email": f"dana.{uid}@example.org", "phone": "605-555-0142", "zip": "57104"}
        patient.update(overrides)
        status, _ = backend("POST", "/patients", patient)
        assert status == 201
        return patient
    return create


def outbox(backend, address: str) -> List[Dict]:
    status, body = backend("GET", f"/outbox?to={urllib.parse.quote(address)}")
    assert status == 200
    return body["messages"]


SHARED = ROOT.parent / "shared"

# What the answers must say, read from bot/facts.yml (never written twice).
FACTS = facts()
MYCHART_PHONE = phone("mychart")
CE_PHONE = phone("learning_center_ce")
EMERGENCY = FACTS["emergency_number"]
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def said_number(count: int) -> str:
    """A pattern for a count as the bot may write it: "5" or "five"."""
    return rf"\b({count}|{NUMBER_WORDS.get(count, count)})\b"

# The chat page and the e-mailed-link pages in chromium (tests/e2e/web.py).
from tests.e2e.web import browser, web  # noqa: E402,F401  (fixtures)
