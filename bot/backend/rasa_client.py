"""Every call the backend makes to Rasa's HTTP API, in one place (and its authentication with it).

The backend talks to a conversation by appending events to its tracker
(`POST /conversations/{id}/tracker/events`) with side effects executed, so a
bot message is both stored and delivered on the member's channel.
"""
import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp

from bot.rasa_api import auth_headers

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10
# The website widget shows a bot_uttered payload with "agent_name" as a message from a person.
WIDGET_CHANNEL = "socketio"


class RasaUnavailable(Exception):
    """Rasa could not be reached, refused the token, or failed."""


class RasaClient:
    def __init__(self, base_url: str, token: Optional[str]):
        self.base_url = base_url
        self.token = token
        self._session: Optional[aiohttp.ClientSession] = None

    def _auth(self) -> Dict[str, str]:
        """A short-lived JWT signed with RASA_TOKEN, in a header: never a secret in a URL."""
        return auth_headers(self.token) if self.token else {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def append_events(self, conversation_id: str, events: List[Dict[str, Any]], channel: str) -> None:
        """Append events and deliver any bot message among them on `channel`."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        url = f"{self.base_url}/conversations/{conversation_id}/tracker/events"
        params = {"output_channel": channel or "latest", "execute_side_effects": "true",
                  "include_events": "NONE"}  # the answer is not read: spare Rasa serialising the tracker
        try:
            async with self._session.post(url, json=events, params=params, headers=self._auth()) as response:
                if response.status != 200:
                    log.warning("Rasa answered %s to appending events", response.status)
                    raise RasaUnavailable()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            log.warning("Rasa unreachable: %s", type(error).__name__)
            raise RasaUnavailable() from error

    async def say_as_agent(self, conversation_id: str, channel: str, text: str, agent_name: str) -> None:
        """An agent's reply: the widget gets it as from a person; other channels see the name in the text."""
        if channel == WIDGET_CHANNEL:
            event = {"event": "bot", "text": None, "metadata": {"agent_name": agent_name},
                     "data": {"custom": {"data": {"text": text, "agent_name": agent_name}}}}
        else:
            event = {"event": "bot", "text": f"{agent_name}: {text}", "metadata": {"agent_name": agent_name}}
        await self.append_events(conversation_id, [event], channel)

    async def say_as_assistant(self, conversation_id: str, channel: str, text: str) -> None:
        await self.append_events(conversation_id, [{"event": "bot", "text": text}], channel)

    async def resume(self, conversation_id: str, channel: str, text: str) -> None:
        """Un-pause the conversation, listen again, and tell the member the assistant is back."""
        await self.append_events(conversation_id, [
            {"event": "resume"},
            {"event": "action", "name": "action_listen"},
            {"event": "bot", "text": text},
        ], channel)
