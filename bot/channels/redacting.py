"""Rasa's REST and socket.io channels with secrets removed on the way in.

Rasa stores every user message in the tracker store. Wrapping the callback
that hands a message to Rasa means a password, SSN or access code typed by
mistake is replaced by a placeholder before anything stores, logs or parses
it. The channel names stay "rest" and "socketio", so the URLs do not change.

Both also put the address the message came from into its metadata (replacing any
value the client sent), so that the backend can limit identity checks per client.
"""
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput

from bot.client_address import METADATA_KEY, client_address, trusted_proxies
from bot.redaction import redact

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


def redacting(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handle(message: UserMessage) -> Any:
        message.text, kinds = redact(message.text)
        if kinds:
            logger.info("Removed %s from an incoming message.", ", ".join(kinds))
        return await on_new_message(message)

    return handle


class RedactingRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage):
        return super().blueprint(redacting(on_new_message))

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
        return blueprint
