"""Rasa's REST and socket.io channels with secrets removed on the way in.

Rasa stores every user message in the tracker store. Wrapping the callback
that hands a message to Rasa means a password, SSN or access code typed by
mistake is replaced by a placeholder before anything stores, logs or parses
it. The channel names stay "rest" and "socketio", so the URLs do not change.

When the conversation database or the lock store (Redis, scale profile)
cannot be reached, the member hears so and what to do, instead of an error,
silence or an answer without its context.
"""
import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.lock_store import LockError
from redis.exceptions import RedisError

from bot.redaction import redact
from bot.tracker_store import TrackerStoreUnavailable
from bot.unavailable import unavailable_text

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def redacting(on_new_message: OnNewMessage) -> OnNewMessage:
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
        return super().blueprint(redacting(on_new_message))
