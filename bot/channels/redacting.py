"""Rasa's REST and socket.io channels with secrets removed on the way in.

Rasa stores every user message in the tracker store. Wrapping the callback
that hands a message to Rasa means a password, SSN or access code typed by
mistake is replaced by a placeholder before anything stores, logs or parses
it. The channel names stay "rest" and "socketio", so the URLs do not change.

Both also put the address the message came from into its metadata (replacing any
value the client sent), so that the backend can limit identity checks per client.

The REST channel lets its caller choose the conversation, so it is for
trusted callers: with REST_CHANNEL_TOKEN set it answers only requests that
carry `Authorization: Bearer <REST_CHANNEL_TOKEN>`; without it, only a
server bound to loopback may start (docs/OPERATIONS.md). Members use the
website channel.

When the conversation database or the lock store (Redis, scale profile)
cannot be reached, the member hears so and what to do, instead of an error,
silence or an answer without its context.
"""
import hmac
import ipaddress
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.lock_store import LockError
from redis.exceptions import RedisError
from sanic import response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.channels.admission import admitted
from bot.client_address import METADATA_KEY, client_address, trusted_proxies
from bot.handoff_relay import report_members_leaving
from bot.redaction import redact
from bot.tracker_store import TrackerStoreUnavailable
from bot.unavailable import unavailable_text

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
TRUSTED_PROXIES = trusted_proxies(os.environ.get("TRUSTED_PROXIES"))


def with_client_address(metadata: Any, request) -> Dict[str, Any]:
    """The message's metadata with the address of the Sanic `request` it came in, as this server saw it."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata[METADATA_KEY] = client_address(request.ip, request.headers.getall("x-forwarded-for", []),
                                            TRUSTED_PROXIES)
    return metadata
MAX_SENDER_LENGTH = 128
MAX_MESSAGE_LENGTH = 5000


def redacting(on_new_message: OnNewMessage) -> OnNewMessage:
    on_new_message = admitted(on_new_message)

    async def handle(message: UserMessage) -> Any:
        message.text, kinds = redact(message.text)
        if kinds:
            logger.info("Removed %s from an incoming message.", ", ".join(kinds))
        try:
            return await on_new_message(message)
        except (TrackerStoreUnavailable, LockError, RedisError) as error:
            logger.error("Message not handled: %s", error)
            if isinstance(getattr(message.output_channel, "messages", None), list):
                message.output_channel.messages.clear()  # REST: no reply that was not recorded
            await message.output_channel.send_text_message(message.sender_id, unavailable_text())
            return None

    return handle


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def malformed(body: Any) -> Optional[str]:
    """What is wrong with a REST message body, or None when it is a usable message."""
    if not isinstance(body, dict):
        return 'The body must be a JSON object: {"sender": "...", "message": "..."}.'
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
        return f'"sender" must be a non-empty string of at most {MAX_SENDER_LENGTH} characters.'
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_LENGTH:
        return f'"message" must be a non-empty string of at most {MAX_MESSAGE_LENGTH} characters.'
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        return '"metadata" must be a JSON object when given.'
    return None


class RedactingRestInput(RestInput):
    """Rasa's REST channel for trusted callers: a token outside development, a 400 for bad input."""

    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "RedactingRestInput":
        token = os.environ.get("REST_CHANNEL_TOKEN", "").strip() or None
        host = os.environ.get("RASA_HOST", "127.0.0.1")
        if token is None and not is_loopback(host):
            raise ValueError(
                f"The REST channel lets its caller write into any conversation; Rasa listens on {host}, "
                "so set REST_CHANNEL_TOKEN (its callers send `Authorization: Bearer <token>`).")
        return cls(token)

    def _extract_input_channel(self, request: Request) -> str:
        # The caller does not get to claim another channel.
        return self.name()

    def refusal(self, request: Request) -> Optional[response.HTTPResponse]:
        """401 without the channel's token (when it has one), 400 for a body that is not a message."""
        if self.token is not None:
            scheme, _, provided = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(provided.encode(), self.token.encode()):
                return response.json({"error": "Send `Authorization: Bearer <REST_CHANNEL_TOKEN>`."}, status=401)
        try:
            problem = malformed(request.json)
        except InvalidUsage:  # Sanic could not parse the body
            problem = "The body is not valid JSON."

        return response.json({"error": problem}, status=400) if problem else None

    def blueprint(self, on_new_message: OnNewMessage):
        blueprint = super().blueprint(redacting(on_new_message))

        @blueprint.middleware("request")
        async def only_well_formed_messages(request: Request) -> Optional[response.HTTPResponse]:
            if request.method == "POST":
                return self.refusal(request)
            return None

        return blueprint

    def get_metadata(self, request) -> Optional[Dict[str, Any]]:
        return with_client_address(super().get_metadata(request), request)


class RedactingSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: OnNewMessage):
        blueprint = super().blueprint(redacting(on_new_message))
        namespace = self.namespace or "/"
        handle_message = self.sio.handlers[namespace][self.user_message_evt]

        async def handle_message_with_address(sid: str, data: Any) -> None:
            """The address is the one of the connection's first request (socket.io keeps its environ)."""
            if isinstance(data, dict):
                request = self.sio.get_environ(sid, namespace)["sanic.request"]
                data = {**data, self.metadata_key: with_client_address(data.get(self.metadata_key), request)}
            await handle_message(sid, data)

        self.sio.on(self.user_message_evt, handle_message_with_address, namespace=namespace)
        report_members_leaving(self.sio, self.namespace)  # the help-desk agent sees a member leave
        return blueprint
