"""Slack for staff: Rasa's Slack connector where it falls short of Slack's protocol.

Rasa 3.6's connector answers a bad signature with 400, replies a second time
to a Slack retry unless its reason is a timeout, answers `url_verification`
with a bare JSON string, threads direct messages as well as channel
messages, posts with the legacy `as_user` argument, allows five buttons,
and always calls slack.com without honouring a 429. This subclass keeps its
parsing (mentions, interactive payloads, conversation ids) and fixes those:

- every request must carry a valid signature (HMAC-SHA256 over
  `v0:timestamp:body`, five-minute window, constant-time), else 401;
- each event is handed to Rasa once: a retry of an event already received
  is acknowledged and dropped (a retry of one never received is answered);
- the request is acknowledged at once and the reply posted when ready, so
  a slow backend never breaks Slack's three-second limit;
- a reply goes into the question's thread in a channel, and straight back
  in a direct message;
- the Web API base URL is configurable (`SLACK_API_URL`), and a 429 is
  retried after its `Retry-After`;
- a message the backend sends through Rasa's HTTP API (an agent's reply,
  the hand-back) goes to the channel and thread the member last wrote in
  (bot/channels/latest_address.py).
"""
import json
import logging
import time
from collections import OrderedDict
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.background import BackgroundTurns
from bot.channels.latest_address import RasaApp, ToLatestAddress
from bot.channels.redacting import OnNewMessage, redacting
from bot.staff import STAFF_RESPONSES, staff_buttons

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
# Slack allows 25 elements in an actions block.
MAX_BUTTONS = 25
# Slack retries an event for about an hour at most; ids are kept that long.
SEEN_EVENT_SECONDS = 3600
SEEN_EVENTS_MAX = 10000
RATE_LIMIT_RETRIES = 3


class SeenEvents:
    """The ids of the events received lately, so a retry is not answered twice."""

    def __init__(self) -> None:
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        now = time.monotonic()
        while self._seen and (
            len(self._seen) >= SEEN_EVENTS_MAX or next(iter(self._seen.values())) < now - SEEN_EVENT_SECONDS
        ):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True


class StaffSlackBot(SlackBot):
    """Posts replies through the Web API at a configurable base URL, honouring 429s."""

    @classmethod
    def name(cls) -> Text:
        return STAFF_RESPONSES

    def __init__(self, token: Text, api_url: Text, session: aiohttp.ClientSession,
                 slack_channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> None:
        super().__init__(token, slack_channel, thread_id)
        self.client = AsyncWebClient(
            token, base_url=api_url, session=session,
            retry_handlers=[AsyncConnectionErrorRetryHandler(),
                            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
        )

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)  # legacy argument that Slack's bot tokens do not take
        await super()._post_message(channel, **kwargs)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """A help-desk agent's reply (`agent_name`, bot/backend/rasa_client.py) is posted as the agent
        typed it: in one message, with `&`, `<` and `>` escaped so Slack neither pings
        (`<!channel>`) nor links anything; the bot's own texts keep Slack's formatting."""
        if not kwargs.get("agent_name"):
            return await super().send_text_message(recipient_id, text, **kwargs)
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        await self._post_message(channel=self.slack_channel or recipient_id, text=escaped)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        buttons = staff_buttons(buttons)
        if not buttons or len(buttons) > MAX_BUTTONS:
            return await self.send_text_message(recipient_id, text, **kwargs)
        elements = [
            {"type": "button", "text": {"type": "plain_text", "text": button["title"][:75]},
             "value": button["payload"], "action_id": f"button-{index}"}
            for index, button in enumerate(buttons)
        ]
        await self._post_message(
            channel=self.slack_channel or recipient_id, text=text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    {"type": "actions", "elements": elements}],
        )


class StaffSlackInput(SlackInput):
    """The "slack" channel at /webhooks/slack/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "StaffSlackInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials["slack_token"], credentials["slack_signing_secret"],
                   credentials.get("slack_api_url") or SLACK_API_URL)

    def __init__(self, slack_token: Text, slack_signing_secret: Text, api_url: Text = SLACK_API_URL) -> None:
        super().__init__(slack_token, slack_signing_secret=slack_signing_secret, use_threads=True)
        self.api_url = api_url
        self.seen_events = SeenEvents()
        self.turns = BackgroundTurns("Slack")
        self.rasa = RasaApp()
        self._session: Optional[aiohttp.ClientSession] = None

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        """Where a reply goes; without a channel (Rasa's HTTP API), where the member last wrote."""
        if channel is None and self.slack_channel is None:
            return ToLatestAddress(self.name(), self.rasa,
                                   lambda address: self.get_output_channel(address["out_channel"],
                                                                           address.get("thread_id")))
        if self._session is None or self._session.closed:  # one session, opened in the server's event loop
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return StaffSlackBot(self.slack_token, self.api_url, self._session, channel or self.slack_channel, thread_id)

    def get_metadata(self, request: Request) -> Dict[Text, Any]:
        """Rasa's metadata, with the thread a reply belongs in (None: straight back)."""
        metadata = super().get_metadata(request)
        if is_json(request):
            event = request.json.get("event", {})
            in_channel = event.get("channel_type") != "im"
            metadata["thread_id"] = event.get("thread_ts") or (event.get("ts") if in_channel else None)
        else:
            # A click: reply where the buttons were, in their thread if they were in one.
            message = json.loads(request.form["payload"][0]).get("message", {})
            metadata["thread_id"] = message.get("thread_ts")
        return metadata

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = redacting(on_new_message)
        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.listener("after_server_start")
        async def remember_rasa(app: Any, *_: Any) -> None:
            self.rasa.app = app

        @slack_webhook.listener("after_server_stop")
        async def close_session(*_: Any) -> None:
            if self._session is not None:
                await self._session.close()

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_request_from_slack_authentic(request):
                logger.warning("Refused a Slack request without a valid signature.")
                return response.text("Invalid or stale X-Slack-Signature.", status=HTTPStatus.UNAUTHORIZED)
            if is_json(request):
                return await self.handle_event(request, on_new_message)
            if "payload" in request.form:
                return await self.handle_click(request, on_new_message)
            return response.text("Unsupported request.", status=HTTPStatus.BAD_REQUEST)

        return slack_webhook

    async def handle_event(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        body = request.json or {}
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        event_id = body.get("event_id")
        if event_id and not self.seen_events.first_time(event_id):
            logger.info("Dropped Slack retry #%s of an event already received.",
                        request.headers.get("X-Slack-Retry-Num"))
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        if not self._is_user_message(body):
            return response.text("")
        metadata = self.get_metadata(request)
        if not self._is_supported_channel(body, metadata):
            return response.text("")
        event = body["event"]
        text = self._sanitize_user_message(event.get("text", ""), metadata["users"])
        sender = self._get_conversation_id(event.get("user"), metadata["out_channel"], metadata["thread_id"])
        self.hand_over(on_new_message, text, sender, metadata)
        return response.text("")

    async def handle_click(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        payload = json.loads(request.form["payload"][0])
        text = self._get_interactive_response(payload["actions"][0]) if self._is_interactive_message(payload) else None
        if text is None:  # a link button, or a component this bot never sends
            return response.text("")
        metadata = self.get_metadata(request)
        sender = self._get_conversation_id(payload["user"]["id"], metadata["out_channel"], metadata["thread_id"])
        self.hand_over(on_new_message, text, sender, metadata)
        return response.text("")

    def hand_over(self, on_new_message: OnNewMessage, text: Text, sender: Text, metadata: Dict) -> None:
        """Give the message to Rasa in the background: Slack is answered before the reply is ready."""
        message = UserMessage(text, self.get_output_channel(metadata["out_channel"], metadata["thread_id"]),
                              sender, input_channel=self.name(), metadata=metadata)
        self.turns.start(on_new_message(message))


def is_json(request: Request) -> bool:
    return (request.headers.get("content-type") or "").startswith("application/json")
