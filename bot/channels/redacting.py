"""Rasa's REST and socket.io channels with secrets removed on the way in.

Rasa stores every user message in the tracker store. Wrapping the callback
that hands a message to Rasa means a password, SSN or access code typed by
mistake is replaced by a placeholder before anything stores, logs or parses
it. The channel names stay "rest" and "socketio", so the URLs do not change.
"""
import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput

from bot.handoff_relay import report_members_leaving
from bot.redaction import redact

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


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


class RedactingSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: OnNewMessage):
        blueprint = super().blueprint(redacting(on_new_message))
        report_members_leaving(self.sio, self.namespace)  # the help-desk agent sees a member leave
        return blueprint
