"""The help desk with its Slack and Teams channels on, talking to local fakes of both clouds.

One stack (backend, action server, Rasa) for the module's tests, started by
`bot.cli.isolated_stack` as `make run` starts the real one, with the staff
channels' settings pointing at the fakes in tests/channels/fakes.py.
"""
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Dict, Optional, Tuple

import pytest

from bot.cli import isolated_stack, model_path, new_secret
from tests.channels.fakes import FakeMicrosoft, FakeSlack

TEAMS_APP_ID = str(uuid.uuid4())


@pytest.fixture(scope="session")
def slack():
    fake = FakeSlack(bot_token=f"xoxb-{new_secret()}", signing_secret=new_secret())
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def microsoft():
    fake = FakeMicrosoft(TEAMS_APP_ID, new_secret())
    yield fake
    fake.close()


def staff_channel_settings(slack: FakeSlack, microsoft: FakeMicrosoft) -> Dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "TEAMS_APP_ID": microsoft.app_id, "TEAMS_APP_PASSWORD": microsoft.app_password, "TEAMS_TENANT_ID": "",
        "TEAMS_OPENID_METADATA_URL": microsoft.metadata_url, "TEAMS_TOKEN_URL": microsoft.token_url,
    }


@pytest.fixture(scope="session")
def channels_stack(tmp_path_factory, slack, microsoft):
    model = model_path()
    if not model.exists():
        pytest.fail(f"No trained model at {model}: run `make train` first (make test does).")
    work = tmp_path_factory.mktemp("channels")
    settings = {**staff_channel_settings(slack, microsoft), "HELP_DESK_HOURS": "always"}  # hand-offs at any hour
    with isolated_stack(model, work, settings=settings) as running:
        yield running


def post(url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class SlackWorkspace:
    """Sends signed Events API and interactivity requests to the Rasa server, as Slack does."""

    def __init__(self, stack, slack: FakeSlack):
        self.url = f"{stack.rasa_url}/webhooks/slack/webhook"
        self.slack = slack

    def send_event(self, body: Dict, headers: Optional[Dict[str, str]] = None,
                   signature: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
        raw = json.dumps(body).encode()
        signed = signature if signature is not None else self.slack.sign(raw)
        return post(self.url, raw, {"Content-Type": "application/json", **signed, **(headers or {})})

    def message(self, text: str, user: str, channel: str = "D0STAFF", channel_type: str = "im",
                ts: Optional[str] = None, thread_ts: Optional[str] = None) -> Dict:
        """An Events API callback: a direct message, or a mention in a channel (in a thread if `thread_ts`)."""
        ts = ts or f"{time.time():.6f}"
        event_type = "message" if channel_type == "im" else "app_mention"
        text = text if channel_type == "im" else f"<@UBOT> {text}"
        event = {"type": event_type, "user": user, "text": text, "channel": channel,
                 "channel_type": channel_type, "ts": ts, "event_ts": ts}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return {"type": "event_callback", "team_id": "T0AVERA", "event_id": f"Ev{uuid.uuid4().hex[:10]}",
                "authorizations": [{"user_id": "UBOT"}], "event": event}

    def click(self, user: str, value: str, channel: str, thread_ts: Optional[str]) -> Tuple[int, bytes]:
        """A click on a button the bot posted (a block_actions interactive payload)."""
        message = {"ts": f"{time.time():.6f}", "text": "buttons"}
        if thread_ts:
            message["thread_ts"] = thread_ts
        payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": channel},
                   "message": message, "actions": [{"type": "button", "action_id": "button-0", "value": value}]}
        raw = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return post(self.url, raw, {"Content-Type": "application/x-www-form-urlencoded", **self.slack.sign(raw)})


@pytest.fixture
def workspace(channels_stack, slack) -> SlackWorkspace:
    return SlackWorkspace(channels_stack, slack)


def new_user() -> str:
    return f"U{uuid.uuid4().hex[:10].upper()}"
