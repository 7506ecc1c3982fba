"""Each Rasa process works on a few turns at a time, the others waiting in the order they came, and
finishes every turn it received.

Rasa starts every incoming message at once. A turn is CPU work (NLU, the
policies) between waits (tracker store, lock store, action server), and the
event loop serves the turns in progress round-robin, so a turn with several
waits (a form step calls the action server two or three times) queues behind
every other turn again at each one. With 200 conversations on one replica
the slowest turns took several times the median, and some passed the load
balancer's 60 s time-out. Admitting a few turns at a time, first come first
served, bounds a turn's time by its place in the line plus its own work.

TURNS_AT_ONCE (environment, default 24) sets how many. The waits inside a
turn are bounded (the tracker store's time-outs, the lock store's, the
action server's calls to the backend), so a slow turn cannot hold its place
for long.
"""
import asyncio
import os
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
DEFAULT_TURNS_AT_ONCE = 24
_turns: Optional[asyncio.Semaphore] = None


def turns_at_once() -> int:
    value = os.environ.get("TURNS_AT_ONCE", "").strip()
    return int(value) if value else DEFAULT_TURNS_AT_ONCE


def admitted(on_new_message: OnNewMessage) -> OnNewMessage:
    """`on_new_message` once a place is free (asyncio's semaphore wakes its waiters in order), run to its end.

    A message received is handled even when its caller stops waiting (a load
    balancer's time-out, a closed connection): Sanic cancels a request's task
    when its connection closes, which would drop the turn wherever it was.
    """

    async def turn(message: UserMessage) -> Any:
        global _turns
        if _turns is None:
            _turns = asyncio.Semaphore(turns_at_once())
        async with _turns:
            return await on_new_message(message)

    async def handle(message: UserMessage) -> Any:
        return await asyncio.shield(turn(message))

    return handle
