"""Handing a message to Rasa in the background, so the webhook is acknowledged first.

Slack wants an answer within three seconds and the Bot Framework within
fifteen; a turn that waits on a slow backend may take longer. The staff
channels acknowledge at once and post the reply through the cloud's API
when it is ready.
"""
import asyncio
import logging
from typing import Awaitable, Set

logger = logging.getLogger(__name__)


class BackgroundTurns:
    """The turns being handled; a reference is kept so a task is not collected before it ends."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._tasks: Set[asyncio.Task] = set()

    def start(self, turn: Awaitable) -> None:
        task = asyncio.create_task(turn)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Could not answer a %s message: %s", self.channel, type(task.exception()).__name__)
