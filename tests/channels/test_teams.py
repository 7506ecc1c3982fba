"""Teams: Bot Framework activities with RS256 tokens from a local fake issuer; replies captured by a fake connector."""
import json
import time
import urllib.parse
import urllib.request
import uuid

import jwt
import pytest

from bot.cli import free_port, model_path, rasa_service, write_credentials, write_endpoints
from tests.channels.conftest import TEAMS_APP_ID, post, staff_channel_settings
from tests.channels.fakes import FakeMicrosoft

ROLES_QUESTION = "what user roles are there in System Link?"


class TeamsClient:
    """Sends activities to the Rasa server as the Bot Framework connector does."""

    def __init__(self, rasa_url: str, microsoft: FakeMicrosoft):
        self.url = f"{rasa_url}/webhooks/teams/webhook"
        self.microsoft = microsoft

    def send(self, activity, token=None):
        token = self.microsoft.token() if token is None else token
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return post(self.url, json.dumps(activity).encode(), headers)[0]


@pytest.fixture
def teams(channels_stack, microsoft):
    return TeamsClient(channels_stack.rasa_url, microsoft)


def in_conversation(conversation):
    return lambda reply: reply["activity"]["conversation"]["id"] == conversation


def test_a_valid_activity_is_answered_at_its_service_url(teams, microsoft):
    conversation = f"a:{uuid.uuid4().hex}"
    activity = microsoft.activity(ROLES_QUESTION, conversation=conversation)
    assert teams.send(activity) == 202
    [reply] = microsoft.wait_for_replies(1, in_conversation(conversation))
    path = urllib.parse.unquote(reply["path"])
    assert path == f"/connector/v3/conversations/{conversation}/activities/{activity['id']}"
    assert reply["activity"]["replyToId"] == activity["id"]
    assert reply["activity"]["recipient"]["id"] == activity["from"]["id"]
    card = reply["activity"]["attachments"][0]["content"]
    assert "Clinical Staff" in card["text"]


def test_an_activity_is_acknowledged_before_the_reply_is_ready(teams, microsoft):
    """If the webhook waited for the reply, it could not answer while the connector holds the reply."""
    conversation = f"a:{uuid.uuid4().hex}"
    microsoft.released.clear()
    try:
        assert teams.send(microsoft.activity(ROLES_QUESTION, conversation=conversation)) == 202
        assert microsoft.wait_for_replies(1, in_conversation(conversation), timeout=0) == []
    finally:
        microsoft.released.set()
    assert microsoft.wait_for_replies(1, in_conversation(conversation))


def test_a_mention_in_a_channel_is_answered_without_the_mention(teams, microsoft):
    conversation = f"19:{uuid.uuid4().hex}@thread.tacv2;messageid=1"
    teams.send(microsoft.activity(f"<at>Avera Help</at> {ROLES_QUESTION}", conversation=conversation))
    [reply] = microsoft.wait_for_replies(1, in_conversation(conversation))
    assert "Clinical Staff" in reply["activity"]["attachments"][0]["content"]["text"]


def forged_tokens(microsoft: FakeMicrosoft):
    now = int(time.time())
    other_key = FakeMicrosoft(TEAMS_APP_ID, "unused")
    try:
        yield "expired", microsoft.token(exp=now - 600, nbf=now - 4000)
        yield "wrong audience", microsoft.token(aud=str(uuid.uuid4()))
        yield "wrong issuer", microsoft.token(iss="https://sts.example.org")
        yield "wrong serviceUrl", microsoft.token(serviceUrl="http://127.0.0.1:9/elsewhere/")
        yield "alg none", jwt.encode({"iss": microsoft.ISSUER, "aud": TEAMS_APP_ID, "exp": now + 600,
                                      "serviceUrl": microsoft.service_url}, None, algorithm="none",
                                     headers={"kid": microsoft.kid})
        yield "HS256 with the public key", hs256_with_public_key(microsoft)
        yield "unknown key", other_key.token(kid="key-unknown", iss=microsoft.ISSUER,
                                             serviceUrl=microsoft.service_url)
        yield "known kid, other key", other_key.token(kid=microsoft.kid, serviceUrl=microsoft.service_url)
        yield "no token", ""
    finally:
        other_key.close()


def hs256_with_public_key(microsoft: FakeMicrosoft) -> str:
    """The classic key-confusion forgery, built by hand: PyJWT rightly refuses to sign it."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": microsoft.kid}).encode())
    claims = b64(json.dumps({"iss": microsoft.ISSUER, "aud": TEAMS_APP_ID, "exp": int(time.time()) + 600,
                             "serviceUrl": microsoft.service_url}).encode())
    signature = hmac.new(microsoft.public_pem(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def test_forged_and_invalid_tokens_are_refused_and_not_processed(teams, microsoft):
    conversation = f"a:{uuid.uuid4().hex}"
    for name, token in forged_tokens(microsoft):
        status = teams.send(microsoft.activity(ROLES_QUESTION, conversation=conversation), token=token)
        assert status == 401, name
    # Nothing reached Rasa: the only reply in this conversation answers the next, valid activity.
    teams.send(microsoft.activity("thanks!", conversation=conversation))
    replies = microsoft.wait_for_replies(1, in_conversation(conversation))
    assert len(replies) == 1 and "Clinical Staff" not in json.dumps(replies[0])


def test_a_button_click_comes_back_as_its_payload(teams, microsoft):
    conversation = f"a:{uuid.uuid4().hex}"
    teams.send(microsoft.activity("what can you help with", conversation=conversation))
    [offer] = microsoft.wait_for_replies(1, in_conversation(conversation))
    actions = offer["activity"]["attachments"][0]["content"]["buttons"]
    roles = next(a for a in actions if a["title"] == "System Link roles")
    assert roles["type"] == "messageBack" and roles["value"] == {"payload": "/system_link_roles"}
    # Teams sends a messageBack click with the action's text and value.
    teams.send(microsoft.activity(roles["text"], conversation=conversation, value=roles["value"]))
    answer = microsoft.wait_for_replies(2, in_conversation(conversation))[1]["activity"]
    assert "Clinical Staff" in answer["attachments"][0]["content"]["text"]


def test_staff_asking_for_a_new_access_code_are_told_what_the_bot_does_for_staff(teams, microsoft):
    conversation = f"a:{uuid.uuid4().hex}"
    teams.send(microsoft.activity("send me a new access code", conversation=conversation))
    [reply] = microsoft.wait_for_replies(1, in_conversation(conversation))
    assert "855-667-9704" in reply["activity"]["text"] and "605-332-6000" in reply["activity"]["text"]


def test_an_adaptive_card_submit_comes_back_as_its_payload(teams, microsoft):
    conversation = f"a:{uuid.uuid4().hex}"
    # Action.Submit sends the card's data as the activity's value, and no text.
    teams.send(microsoft.activity(None, conversation=conversation, value={"payload": "/system_link_roles"}))
    [reply] = microsoft.wait_for_replies(1, in_conversation(conversation))
    assert "Clinical Staff" in reply["activity"]["attachments"][0]["content"]["text"]


def test_the_connector_token_is_fetched_once_and_reused(teams, microsoft):
    conversations = [f"a:{uuid.uuid4().hex}" for _ in range(3)]
    for conversation in conversations:
        teams.send(microsoft.activity("thanks!", conversation=conversation))
    for conversation in conversations:
        microsoft.wait_for_replies(1, in_conversation(conversation))
    assert microsoft.token_requests == 1


def test_a_token_the_connector_refuses_is_renewed_once_and_the_replies_still_arrive(teams, microsoft):
    warm_up = f"a:{uuid.uuid4().hex}"
    teams.send(microsoft.activity("thanks!", conversation=warm_up))
    microsoft.wait_for_replies(1, in_conversation(warm_up))  # a token is cached now
    fetched = microsoft.token_requests
    microsoft.revoke_tokens()
    conversations = [f"a:{uuid.uuid4().hex}" for _ in range(3)]
    for conversation in conversations:
        teams.send(microsoft.activity(ROLES_QUESTION, conversation=conversation))
    for conversation in conversations:
        [reply] = microsoft.wait_for_replies(1, in_conversation(conversation))
        assert "Clinical Staff" in reply["activity"]["attachments"][0]["content"]["text"]
    assert microsoft.token_requests == fetched + 1


@pytest.fixture
def single_tenant_rasa(channels_stack, slack, microsoft, tmp_path):
    """A second Rasa server, single-tenant, whose issuer is not reachable yet (nothing listens on its port)."""
    issuer_url = f"http://127.0.0.1:{free_port()}"
    env = {**channels_stack.env, **staff_channel_settings(slack, microsoft),
           "BACKEND_URL": channels_stack.backend_url, "TEAMS_TENANT_ID": "tenant-a",
           "TEAMS_OPENID_METADATA_URL": f"{issuer_url}/v1/.well-known/openidconfiguration",
           "TEAMS_TOKEN_URL": f"{issuer_url}/oauth2/v2.0/token"}
    endpoints = write_endpoints(tmp_path / "endpoints.yml", f"{channels_stack.actions_url}/webhook",
                                tmp_path / "tracker.db")
    service = rasa_service(model_path(), free_port(), endpoints, env, tmp_path / "rasa.log",
                           credentials=write_credentials(tmp_path / "credentials.yml", env))
    service.start()
    try:
        service.wait_healthy(timeout=180)
        yield service.health_url.split("/status")[0], int(issuer_url.rsplit(":", 1)[1])
    finally:
        service.stop()


def test_server_starts_while_the_issuer_is_unreachable_and_serves_teams_once_it_is_back(single_tenant_rasa,
                                                                                         microsoft):
    rasa_url, issuer_port = single_tenant_rasa
    status, body = post(f"{rasa_url}/webhooks/rest/webhook",
                        json.dumps({"sender": uuid.uuid4().hex, "message": ROLES_QUESTION}).encode(),
                        {"Content-Type": "application/json"})
    assert status == 200 and "Clinical Staff" in body.decode()
    with urllib.request.urlopen(f"{rasa_url}/socket.io/?EIO=4&transport=polling", timeout=10) as handshake:
        assert handshake.status == 200  # the website's chat widget connects
    assert TeamsClient(rasa_url, microsoft).send(microsoft.activity(ROLES_QUESTION)) == 503

    issuer = FakeMicrosoft(TEAMS_APP_ID, microsoft.app_password, port=issuer_port)
    try:
        teams = TeamsClient(rasa_url, issuer)
        other_tenant, own_tenant = f"a:{uuid.uuid4().hex}", f"a:{uuid.uuid4().hex}"
        assert teams.send(issuer.activity(ROLES_QUESTION, conversation=other_tenant, tenant="tenant-b")) == 403
        assert teams.send(issuer.activity(ROLES_QUESTION, conversation=own_tenant, tenant="tenant-a")) == 202
        [reply] = issuer.wait_for_replies(1, in_conversation(own_tenant))
        assert "Clinical Staff" in reply["activity"]["attachments"][0]["content"]["text"]
        assert issuer.wait_for_replies(1, in_conversation(other_tenant), timeout=0) == []
    finally:
        issuer.close()
