"""Messages the bot did not send in answer go where the member last wrote from.

An agent's reply, the hand-back and the unclaimed-escalation notice reach a
conversation through Rasa's HTTP API (`POST /conversations/{id}/tracker/events`,
bot/backend/rasa_client.py). Rasa then asks the input channel for an output
channel without saying which conversation (`get_output_channel()`), and tells
it only the conversation id when it sends. On Slack that is not enough (the
reply belongs in the member's channel and thread), nor on Teams (the service
URL and conversation of the member's messages). Each staff channel keeps that
address in the metadata of every message, which Rasa stores with the user
event; this output channel reads the latest one back from the tracker store
when it sends, so it works after a restart and on any replica.
"""
import logging
from typing import Any, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import UserUttered

from bot.staff import STAFF_RESPONSES

logger = logging.getLogger(__name__)

Address = Dict[Text, Any]


class NoAddress(Exception):
    """The conversation has no message from this channel to answer."""


class RasaApp:
    """The Rasa server's Sanic app, remembered by a channel's blueprint when the server starts."""

    def __init__(self) -> None:
        self.app: Optional[Any] = None

    async def latest_address(self, conversation_id: Text, channel: Text) -> Address:
        """The metadata of the conversation's latest message that came in on `channel`."""
        tracker = await self.app.ctx.agent.tracker_store.retrieve(conversation_id) if self.app else None
        for event in reversed(tracker.events if tracker else []):
            if isinstance(event, UserUttered) and event.input_channel == channel and event.metadata:
                return event.metadata
        raise NoAddress(f"no {channel} message in the conversation")


class ToLatestAddress(OutputChannel):
    """Sends through the channel's own output channel, built for the member's latest address."""

    @classmethod
    def name(cls) -> Text:
        return STAFF_RESPONSES

    def __init__(self, channel: Text, rasa: RasaApp, output_for: Callable[[Address], OutputChannel]) -> None:
        self.channel = channel
        self.rasa = rasa
        self.output_for = output_for

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        try:
            address = await self.rasa.latest_address(recipient_id, self.channel)
        except NoAddress:
            logger.warning("A %s message could not be delivered: the conversation has no address.", self.channel)
            raise
        await self.output_for(address).send_response(recipient_id, message)
