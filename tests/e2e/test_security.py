"""What someone who reaches the help desk's ports, or reads its process list, can do: nothing.

Every process listens on loopback only; the action server runs an action
only for Rasa (its credential); Rasa's HTTP API takes a short-lived JWT and
no token in the URL; no secret is on a command line; the REST channel
answers malformed requests with a 400, and with REST_CHANNEL_TOKEN set only
callers that send it.
"""
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import jwt
import pytest

from bot.cli import free_port, model_path, rasa_service, write_endpoints
from bot.rasa_api import auth_headers
from tests.e2e.conftest import Chat, outbox
from tests.e2e.test_actions import action_call, identity_slots

SECRETS = ("RASA_TOKEN", "ACTION_SERVER_TOKEN", "BACKEND_ADMIN_TOKEN", "BACKEND_ACTIONS_TOKEN", "BACKEND_SECRET_KEY")


def status_of(url: str, data: bytes = None, headers: dict = None) -> int:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def listening_addresses(port: int) -> set:
    """The local addresses of sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_every_process_listens_on_loopback_only(stack):
    for port in (stack.ports.rasa, stack.ports.actions, stack.ports.backend):
        assert listening_addresses(port) == {"0100007F"}, port  # 127.0.0.1, nothing on 0.0.0.0 or ::


def test_no_secret_on_any_command_line(stack):
    for service in stack.services:
        command_line = Path(f"/proc/{service.process.pid}/cmdline").read_bytes().decode()
        for name in SECRETS:
            assert stack.env[name] not in command_line, f"{name} is visible in `ps` for {service.name}"


def test_no_secret_in_any_log(stack, chat):
    chat.say("I need a new MyChart access code")  # a turn that calls the action server with its credential
    for service in stack.services:
        log = service.log_path.read_text(errors="replace")
        for name in SECRETS:
            assert stack.env[name] not in log, f"{name} is in {service.log_path.name}"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Bearer "])
def test_the_action_server_runs_nothing_for_a_caller_without_rasas_credential(stack, new_patient, backend,
                                                                             authorization):
    patient = new_patient()
    headers = {"Authorization": authorization} if authorization else {}
    body = action_call(stack, "action_reissue_access_code", identity_slots(patient))
    assert status_of(f"{stack.actions_url}/webhook", body, headers) == 401
    assert status_of(f"{stack.actions_url}/actions", headers=headers) == 401
    assert outbox(backend, patient["email"]) == []


def test_the_action_server_health_stays_open(stack):
    assert status_of(f"{stack.actions_url}/health") == 200


def test_rasas_api_takes_a_jwt_and_no_token_in_the_url(stack):
    secret = stack.env["RASA_TOKEN"]
    url = f"{stack.rasa_url}/conversations/api-{uuid.uuid4().hex[:8]}/tracker"
    assert status_of(url, headers=auth_headers(secret)) == 200
    assert status_of(f"{url}?token={secret}") == 401
    assert status_of(url) == 401
    # sanic-jwt, which checks Rasa's JWTs, allows three minutes of clock leeway after "exp".
    expired = jwt.encode({"user": {"username": "x", "role": "admin"}, "exp": int(time.time()) - 240}, secret, "HS256")
    assert status_of(url, headers={"Authorization": f"Bearer {expired}"}) == 401
    forged = jwt.encode({"user": {"username": "x", "role": "admin"}}, "f" * 64, "HS256")
    assert status_of(url, headers={"Authorization": f"Bearer {forged}"}) == 401


MALFORMED = [b"", b"null", b"[]", b"[{\"sender\": \"a\", \"message\": \"hi\"}]", b"\"hi\"", b"42", b"{not json",
             b"{}", b"{\"sender\": \"a\"}", b"{\"message\": \"hi\"}", b"{\"sender\": 7, \"message\": \"hi\"}",
             b"{\"sender\": \"a\", \"message\": null}", b"{\"sender\": \"a\", \"message\": [\"hi\"]}",
             b"{\"sender\": \"\", \"message\": \"hi\"}", b"{\"sender\": \"a\", \"message\": \"hi\", \"metadata\": 3}"]


@pytest.mark.parametrize("body", MALFORMED, ids=[b.decode() or "empty" for b in MALFORMED])
def test_a_malformed_rest_request_gets_a_400_that_says_what_is_wrong(stack, body):
    request = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code == 400
    assert json.loads(error.value.read())["error"]


def test_the_rest_channel_behind_a_token_answers_only_its_callers(stack, tmp_path):
    """REST_CHANNEL_TOKEN set (outside development): a caller without it cannot write into a conversation."""
    token = f"rest-{uuid.uuid4().hex}"
    endpoints = write_endpoints(tmp_path / "endpoints.yml", f"{stack.actions_url}/webhook", tmp_path / "tracker.db")
    server = rasa_service(model_path(), free_port(), endpoints, {**stack.env, "REST_CHANNEL_TOKEN": token},
                          tmp_path / "rasa.log")
    server.start()
    try:
        server.wait_healthy(timeout=180)
        chat = Chat(stack)
        chat.url = server.health_url.replace("/status", "/webhooks/rest/webhook")
        body = json.dumps({"sender": chat.sender, "message": "hi"}).encode()
        assert status_of(chat.url, body) == 401
        assert status_of(f"{chat.url}?token={token}", body) == 401
        assert status_of(chat.url, body, {"Authorization": "Bearer wrong"}) == 401
        assert status_of(chat.url, body, {"Authorization": f"Bearer {token}"}) == 200
    finally:
        server.stop()
