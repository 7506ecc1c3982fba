"""Rasa event broker that relays what members write while a help-desk agent has their conversation.

A paused conversation (ConversationPaused, set by actions/handoff.py) still
stores every user message in the tracker store, but the bot does not answer.
Rasa publishes each stored event to its event broker (endpoints.yml
`event_broker`), so this broker sees the pause, the user messages after it and
the resume, and posts those messages to the backend, which stores them with the
escalation and shows them on the agent console. Delivery is retried until the
backend takes it (a backend restart loses nothing); each message carries a key
made from its Rasa event, so a retry never stores it twice. At start the broker
asks the backend which conversations are escalated, so a Rasa restart loses
nothing either. When a member closes the website chat (socket.io disconnect,
bot/channels/redacting.py) during a hand-off, the agent is told they left.
"""
import asyncio
import hashlib
import logging
import os
import time
from typing import Any, Dict, Iterable, Optional, Set

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 5.0
TIMEOUT_SECONDS = 10
# A member can close the chat as soon as the hand-off message arrives, before Rasa has stored
# the turn and published its pause: a departure is remembered this long to meet that pause.
DEPARTURE_MEMORY_SECONDS = 60


class HandoffRelay(EventBroker):
    current: Optional["HandoffRelay"] = None  # the one Rasa created, for the socket.io channel

    def __init__(self, backend_url: str, token: str):
        self.backend_url = backend_url.rstrip("/") + "/api/v1"
        self.token = token
        self.paused: Set[str] = set()
        self._session: Optional[aiohttp.ClientSession] = None
        self._started: Optional[asyncio.Task] = None
        # The last delivery of each conversation: the next one waits for it, so order is kept
        # within a conversation while different conversations are delivered side by side.
        self._tails: Dict[str, asyncio.Task] = {}
        self._recently_left: Dict[str, float] = {}  # conversation id -> when it left (Unix time, as events)

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: Optional[asyncio.AbstractEventLoop] = None) -> "HandoffRelay":
        """`url` in endpoints.yml, or BACKEND_URL; the token is always BACKEND_ACTIONS_TOKEN from the environment."""
        relay = cls(broker_config.url or os.environ.get("BACKEND_URL", "http://127.0.0.1:8080"),
                    os.environ.get("BACKEND_ACTIONS_TOKEN", ""))
        relay._started = asyncio.get_running_loop().create_task(relay._start())
        cls.current = relay
        return relay

    def publish(self, event: Dict[str, Any]) -> None:
        sender, kind = event.get("sender_id"), event.get("event")
        if kind == "pause":
            self.paused.add(sender)
            if self._recently_left.pop(sender, None) is not None:
                self._send(sender, "/escalations/user-left", {"conversation_id": sender})
        elif kind in ("resume", "restart"):
            self.paused.discard(sender)
        elif kind == "user":
            if event.get("timestamp", 0) > self._recently_left.get(sender, float("inf")):
                del self._recently_left[sender]  # written after leaving: back in the chat
        if kind == "user" and sender in self.paused and event.get("text"):
            key = hashlib.sha256(f"{sender}\x00{event.get('timestamp')}".encode()).hexdigest()
            self._send(sender, "/escalations/user-messages",
                       {"conversation_id": sender, "text": event["text"], "event_key": key})

    def members_left(self, conversation_ids: Iterable[str]) -> None:
        now = time.time()
        self._recently_left = {c: t for c, t in self._recently_left.items()
                               if now - t < DEPARTURE_MEMORY_SECONDS}
        for conversation_id in conversation_ids:
            if conversation_id in self.paused:
                self._send(conversation_id, "/escalations/user-left", {"conversation_id": conversation_id})
            else:
                self._recently_left[conversation_id] = now

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = await self._with_retry("GET", "/escalations/open-conversations", None)
        self.paused.update((body or {}).get("conversation_ids", []))

    def _send(self, conversation_id: str, path: str, body: Dict[str, Any]) -> None:
        previous = self._tails.get(conversation_id)
        task = asyncio.get_running_loop().create_task(self._deliver(previous, path, body))
        self._tails[conversation_id] = task
        task.add_done_callback(lambda done: self._tails.pop(conversation_id, None)
                               if self._tails.get(conversation_id) is done else None)

    async def _deliver(self, previous: Optional[asyncio.Task], path: str, body: Dict[str, Any]) -> None:
        await asyncio.shield(self._started)
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await self._with_retry("POST", path, body)

    async def _with_retry(self, method: str, path: str, body: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """Until the backend answers; a 4xx (a message it can never take) is logged and dropped."""
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                async with self._session.request(method, self.backend_url + path, json=body) as response:
                    if response.status < 400:
                        return await response.json()
                    if response.status < 500:
                        log.error("backend refused %s %s: %s", method, path, response.status)
                        return None
                    log.warning("backend answered %s to %s %s; retrying", response.status, method, path)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                log.warning("backend unreachable for %s %s (%s); retrying", method, path, type(error).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def close(self) -> None:
        for task in [self._started, *self._tails.values()]:
            if task is not None:
                task.cancel()
        if self._session is not None:
            await self._session.close()


def report_members_leaving(sio: Any, namespace: Optional[str]) -> None:
    """Replace Rasa's socket.io disconnect handler (it only logs) with one that tells the relay."""

    @sio.on("disconnect", namespace=namespace)
    async def disconnect(sid: str) -> None:
        relay = HandoffRelay.current
        if relay is not None:
            relay.members_left(room for room in sio.rooms(sid, namespace=namespace) if room != sid)
