"""Outbox delivery through a real SMTP server on loopback, retries that end as failed, bodies that
do not outlive their use, text messages that cannot be sent, and SMTP logins only over TLS."""
import asyncio
import re
import subprocess
import sys
import time
from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.backend.services.outbox import MAX_ATTEMPTS
from bot.cli import free_port
from bot.facts import facts

pytestmark = pytest.mark.asyncio
REPO_ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}")


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


async def eventually(check, timeout: float = 10.0):
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_messages_are_delivered_by_smtp_and_then_scrubbed(smtp_server, start_backend, api_for):
    controller, inbox = smtp_server
    server = start_backend(SMTP_HOST="127.0.0.1", SMTP_PORT=str(controller.port), SMTP_FROM="helpdesk@example.org",
                           BACKEND_OUTBOX_POLL_SECONDS="0.1")
    api = api_for(server)
    patient = await api.create_patient()
    assert (await api.post("/access-codes/reissue", api.identity_of(patient), token="actions")).status == 202
    requester = f"req.{api.unique()}@example.org"
    assert (await api.site_request(requester_email=requester)).status == 201

    async def all_sent():
        messages = await api.outbox(patient["email"]) + await api.outbox(requester)
        return messages if len(messages) == 3 and all(m["status"] == "sent" for m in messages) else None

    sent = await eventually(all_sent)
    assert all(m["body"] is None and m["subject"] for m in sent)  # scrubbed, subject kept

    [code_mail] = [m for m in inbox.messages if m["To"] == patient["email"]]
    assert parseaddr(code_mail["From"])[1] == "helpdesk@example.org"
    assert re.search(r"[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}", code_mail.get_content())
    system_link = [m for m in inbox.messages if m["To"] == requester]
    assert len(system_link) == 2
    assert {parseaddr(m["From"])[1] for m in system_link} == {facts()["system_link"]["confirmation_sender"]}


async def test_failed_deliveries_are_retried_then_marked_failed(start_backend, api_for):
    server = start_backend(SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()),  # nothing listens there
                           BACKEND_OUTBOX_POLL_SECONDS="0.05", BACKEND_OUTBOX_RETRY_SECONDS="0.05")
    api = api_for(server)
    patient = await api.create_patient()
    await api.post("/access-codes/reissue", api.identity_of(patient), token="actions")

    async def failed():
        [message] = await api.outbox(patient["email"])
        return message if message["status"] == "failed" else None

    message = await eventually(failed)
    assert message["attempts"] == MAX_ATTEMPTS
    assert "ConnectionRefusedError" in server.log() and patient["email"] not in server.log()
    assert message["body"] is None  # a message that will never go out keeps no code


async def test_without_smtp_the_mail_sink_keeps_bodies_only_for_a_while(start_backend, api_for):
    server = start_backend(BACKEND_OUTBOX_BODY_SECONDS="1")
    api = api_for(server)
    patient = await api.create_patient()
    await api.post("/access-codes/reissue", api.identity_of(patient), token="actions")
    [fresh] = await api.outbox(patient["email"])
    assert CODE.search(fresh["body"])  # readable in the sink at first

    async def scrubbed():
        [message] = await api.outbox(patient["email"])
        return message if message["body"] is None else None

    message = await eventually(scrubbed)
    assert (message["status"], message["error"], message["subject"]) == ("failed", "body_expired", fresh["subject"])


async def test_text_messages_are_marked_not_sent_and_the_log_says_sms_is_not_configured(api, backend):
    patient = await api.create_patient(email=None, portal_account=False, phone="605-555-0199")
    reply = await api.post("/access-codes/reissue", api.identity_of(patient, email=None, phone=patient["phone"]),
                           token="actions")
    assert reply.status == 202
    [message] = await api.outbox("6055550199")
    assert (message["channel"], message["status"], message["error"]) == ("sms", "failed", "sms_not_configured")
    assert "SMS is not configured" in backend.log()


async def test_an_smtp_login_without_tls_is_refused_at_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "BACKEND_SECRET_KEY": "x",
           "BACKEND_ACTIONS_TOKEN": "y", "BACKEND_ADMIN_TOKEN": "z", "SMTP_HOST": "127.0.0.1",
           "SMTP_USER": "helpdesk", "SMTP_PASSWORD": "secret-password", "SMTP_STARTTLS": "false"}
    done = subprocess.run([sys.executable, "-m", "bot.backend"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode != 0
    assert "SMTP_STARTTLS" in done.stderr and "secret-password" not in done.stderr + done.stdout
