"""Microsoft Teams for staff: a Bot Framework channel at /webhooks/teams/webhook.

Rasa 3.6's botframework connector fetches Microsoft's signing keys with a
blocking call when it is built (no start without internet), trusts the
algorithm named in the token, checks no issuer, loses the text of button
clicks and knows only the multi-tenant token endpoint. This channel:

- fetches the OpenID metadata and its JSON Web Key Set asynchronously, on
  start and when needed, caches them and refreshes them daily or when a
  token names a key it does not know (at most every few minutes);
- accepts only RS256 tokens whose audience is the app id, whose issuer is
  the metadata's `issuer`, whose key comes from its `jwks_uri` (and endorses
  the activity's channel), unexpired (small clock skew), and whose
  `serviceUrl` claim is the activity's: anything else gets 401;
- with a tenant id (single-tenant app) accepts only that tenant's activities
  and gets its own tokens from that tenant; without one, it is multi-tenant;
- acknowledges the activity at once and replies, when ready, to the
  activity's `serviceUrl`, with a client-credentials token cached until
  shortly before it expires (or the connector refuses it: then a new one,
  and the reply is posted once more);
- sends a message the backend appends through Rasa's HTTP API (an agent's
  reply, the hand-back) to the conversation the member last wrote in
  (bot/channels/latest_address.py);
- renders buttons as a card of messageBack actions, and takes a click back
  from messageBack, imBack or an Adaptive Card Action.Submit.
"""
import asyncio
import logging
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Text
from urllib.parse import quote

import aiohttp
import jwt
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.background import BackgroundTurns
from bot.channels.latest_address import RasaApp, ToLatestAddress
from bot.channels.redacting import OnNewMessage, redacting
from bot.staff import STAFF_RESPONSES, staff_buttons

logger = logging.getLogger(__name__)

OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MULTI_TENANT = "botframework.com"
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 60
KEYS_MAX_AGE_SECONDS = 24 * 3600
KEYS_MIN_REFRESH_SECONDS = 300
TOKEN_EARLY_RENEWAL_SECONDS = 300
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)
_MENTION = re.compile(r"<at>.*?</at>", re.S)


class Unauthorized(Exception):
    """The request's token does not prove that it comes from the Bot Framework."""


class KeysUnavailable(Exception):
    """The signing keys could not be fetched, so no token can be checked now."""


@dataclass
class SigningKeys:
    issuer: str
    keys: Dict[str, jwt.PyJWK]
    endorsements: Dict[str, List[str]]
    fetched_at: float


class OpenIdKeys:
    """The issuer and signing keys from an OpenID metadata document, fetched and cached."""

    def __init__(self, metadata_url: str, http: "HttpSession") -> None:
        self.metadata_url = metadata_url
        self.http = http
        self._current: Optional[SigningKeys] = None
        self._lock = asyncio.Lock()
        self._last_attempt = 0.0

    async def get(self, kid: Optional[str] = None) -> SigningKeys:
        """The cached keys; fetched when there are none, and again (at most every few minutes)
        when they are a day old or `kid` is not among them. Old keys serve while a refresh fails."""
        current = self._current
        now = time.monotonic()
        refresh = current is not None and now - self._last_attempt > KEYS_MIN_REFRESH_SECONDS and (
            now - current.fetched_at > KEYS_MAX_AGE_SECONDS or (kid is not None and kid not in current.keys))
        if current is None or refresh:
            async with self._lock:
                if self._current is current:
                    await self._fetch()
        if self._current is None:
            raise KeysUnavailable(self.metadata_url)
        return self._current

    async def prefetch(self) -> None:
        try:
            await self.get()
        except KeysUnavailable:
            pass  # logged by _fetch; the first activity tries again

    async def _fetch(self) -> None:
        self._last_attempt = time.monotonic()
        try:
            metadata = await self.http.get_json(self.metadata_url)
            jwks = await self.http.get_json(metadata["jwks_uri"])
            keys, endorsements = {}, {}
            for key in jwks.get("keys", []):
                if key.get("kty") == "RSA" and key.get("kid"):
                    keys[key["kid"]] = jwt.PyJWK(key, algorithm=ALGORITHM)
                    endorsements[key["kid"]] = key.get("endorsements") or []
            self._current = SigningKeys(metadata["issuer"], keys, endorsements, time.monotonic())
            logger.info("Fetched %d Bot Framework signing keys.", len(keys))
        except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError, jwt.PyJWKError) as error:
            logger.warning("Could not fetch the Bot Framework signing keys from %s: %s",
                           self.metadata_url, type(error).__name__)


class HttpSession:
    """One aiohttp session per server, opened in its event loop."""

    def __init__(self) -> None:
        self._session: Optional[aiohttp.ClientSession] = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._session

    async def get_json(self, url: str) -> Dict[str, Any]:
        async with self.session().get(url) as reply:
            reply.raise_for_status()
            return await reply.json(content_type=None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class ConnectorTokens:
    """Client-credentials tokens for calling the Bot Connector, cached until shortly before expiry,
    or until the connector refuses one (a token revoked or rotated early)."""

    def __init__(self, token_url: str, app_id: str, app_password: str, http: HttpSession) -> None:
        self.token_url = token_url
        self.app_id = app_id
        self.app_password = app_password
        self.http = http
        self._token: Optional[str] = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, refused: Optional[str] = None) -> str:
        """The cached token, or a new one when it is due or is the one the connector just `refused`."""
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at or self._token == refused:
                await self._fetch()
            return self._token

    async def _fetch(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.app_id,
                "client_secret": self.app_password, "scope": CONNECTOR_SCOPE}
        async with self.http.session().post(self.token_url, data=form) as reply:
            reply.raise_for_status()
            body = await reply.json(content_type=None)
        self._token = body["access_token"]
        lifetime = int(body.get("expires_in", 3600))
        self._renew_at = time.monotonic() + max(lifetime - TOKEN_EARLY_RENEWAL_SECONDS, lifetime / 2)


def address_of(activity: Dict[str, Any]) -> Dict[str, Any]:
    """Where replies to an activity go: kept in the message's metadata, so later messages find it too."""
    return {"service_url": activity["serviceUrl"], "conversation": activity["conversation"],
            "reply_to_id": activity["id"], "bot": {"id": (activity.get("recipient") or {}).get("id")},
            "user": {"id": (activity.get("from") or {}).get("id")}}


class TeamsReplies(OutputChannel):
    """Replies posted to a conversation at its serviceUrl, in reply to the member's activity."""

    @classmethod
    def name(cls) -> Text:
        return STAFF_RESPONSES

    def __init__(self, address: Dict[str, Any], tokens: ConnectorTokens, http: HttpSession) -> None:
        self.address = address
        self.tokens = tokens
        self.http = http

    async def post(self, **content: Any) -> None:
        """Post with the cached token; if the connector refuses it (401), once more with a new one."""
        address = self.address
        url = (f"{address['service_url'].rstrip('/')}/v3/conversations/"
               f"{quote(address['conversation']['id'], safe='')}/activities/{quote(address['reply_to_id'], safe='')}")
        reply = {"type": "message", "from": address["bot"], "recipient": address["user"],
                 "conversation": address["conversation"], "replyToId": address["reply_to_id"], **content}
        token = await self.tokens.get()
        async with self.http.session().post(url, json=reply, headers={"Authorization": f"Bearer {token}"}) as answer:
            if answer.status != HTTPStatus.UNAUTHORIZED:
                answer.raise_for_status()
                return
        logger.info("The Bot Connector refused its token; fetching a new one.")
        token = await self.tokens.get(refused=token)
        async with self.http.session().post(url, json=reply, headers={"Authorization": f"Bearer {token}"}) as answer:
            answer.raise_for_status()

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """A help-desk agent's reply (`agent_name`, bot/backend/rasa_client.py) is shown as typed, not as markdown."""
        await self.post(text=text, **({"textFormat": "plain"} if kwargs.get("agent_name") else {}))

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        buttons = staff_buttons(buttons)
        if not buttons:
            return await self.send_text_message(recipient_id, text)
        actions = [{"type": "messageBack", "title": button["title"], "displayText": button["title"],
                    "text": button["payload"], "value": {"payload": button["payload"]}} for button in buttons]
        card = {"contentType": "application/vnd.microsoft.card.hero",
                "content": {"text": text, "buttons": actions}}
        await self.post(attachments=[card])

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self.post(**json_message)


def message_text(activity: Dict[str, Any]) -> Optional[str]:
    """What the user said or clicked: a button's payload, else the text without @-mentions."""
    value = activity.get("value")
    if isinstance(value, dict) and isinstance(value.get("payload"), str):
        return value["payload"]
    text = _MENTION.sub(" ", activity.get("text") or "").strip()
    return text or None


class TeamsInput(InputChannel):
    """The "teams" channel."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TeamsInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials["app_id"], credentials["app_password"], credentials.get("tenant_id") or None,
                   credentials.get("openid_metadata_url") or OPENID_METADATA_URL, credentials.get("token_url"))

    def __init__(self, app_id: str, app_password: str, tenant_id: Optional[str] = None,
                 openid_metadata_url: str = OPENID_METADATA_URL, token_url: Optional[str] = None) -> None:
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.http = HttpSession()
        self.keys = OpenIdKeys(openid_metadata_url, self.http)
        self.tokens = ConnectorTokens(token_url or TOKEN_URL.format(tenant=tenant_id or MULTI_TENANT),
                                      app_id, app_password, self.http)
        self.turns = BackgroundTurns("Teams")
        self.rasa = RasaApp()

    async def verify(self, authorization: str, activity: Dict[str, Any]) -> None:
        """Raise Unauthorized unless the bearer token proves the activity comes from the Bot Framework."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthorized("malformed token") from error
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"algorithm {header.get('alg')!r}")
        signing = await self.keys.get(header.get("kid"))
        key = signing.keys.get(header.get("kid"))
        if key is None:
            raise Unauthorized("unknown signing key")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.app_id, issuer=signing.issuer,
                                leeway=CLOCK_SKEW_SECONDS, options={"require": ["exp", "iss", "aud"]})
        except jwt.InvalidTokenError as error:
            raise Unauthorized(type(error).__name__) from error
        if not activity.get("serviceUrl") or claims.get("serviceUrl") != activity["serviceUrl"]:
            raise Unauthorized("serviceUrl does not match the token")
        endorsements = signing.endorsements.get(header["kid"])
        if endorsements and activity.get("channelId") not in endorsements:
            raise Unauthorized("key does not endorse the channel")

    def from_other_tenant(self, activity: Dict[str, Any]) -> bool:
        tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
        return self.tenant_id is not None and tenant != self.tenant_id

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = redacting(on_new_message)
        teams_webhook = Blueprint("teams_webhook", __name__)

        @teams_webhook.listener("after_server_start")
        async def start(app: Any, *_: Any) -> None:
            self.rasa.app = app
            asyncio.get_running_loop().create_task(self.keys.prefetch())

        @teams_webhook.listener("after_server_stop")
        async def close_http(*_: Any) -> None:
            await self.http.close()

        @teams_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @teams_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                activity = request.json
            except Exception:  # Sanic raises its own error type for a body that is not JSON
                activity = None
            if not isinstance(activity, dict):
                return response.text("Expected a Bot Framework activity.", status=HTTPStatus.BAD_REQUEST)
            try:
                await self.verify(request.headers.get("Authorization") or "", activity)
            except Unauthorized as refused:
                logger.warning("Refused a Teams request: %s.", refused)
                return response.text("Unauthorized.", status=HTTPStatus.UNAUTHORIZED)
            except KeysUnavailable:
                return response.text("Signing keys unavailable; try again later.",
                                     status=HTTPStatus.SERVICE_UNAVAILABLE)
            if self.from_other_tenant(activity):
                logger.warning("Refused a Teams activity from another tenant.")
                return response.text("This bot serves one tenant only.", status=HTTPStatus.FORBIDDEN)
            text = message_text(activity) if activity.get("type") == "message" else None
            sender = (activity.get("from") or {}).get("id")
            if text and sender and activity.get("conversation", {}).get("id") and activity.get("id"):
                self.hand_over(on_new_message, text, sender, activity)
            return response.empty(status=HTTPStatus.ACCEPTED)

        return teams_webhook

    def get_output_channel(self) -> OutputChannel:
        """For Rasa's HTTP API (an agent's reply, the hand-back): to where the member last wrote."""
        return ToLatestAddress(self.name(), self.rasa, lambda address: TeamsReplies(address, self.tokens, self.http))

    def hand_over(self, on_new_message: OnNewMessage, text: str, sender: str, activity: Dict[str, Any]) -> None:
        """Give the message to Rasa in the background: the activity is acknowledged before the reply."""
        address = address_of(activity)
        output = TeamsReplies(address, self.tokens, self.http)
        message = UserMessage(text, output, sender, input_channel=self.name(), metadata=address)
        self.turns.start(on_new_message(message))
