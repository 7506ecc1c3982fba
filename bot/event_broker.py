"""Event brokers: Rasa's events to the backend's two readers of them.

Rasa takes one event broker, and two parts of the help desk read its events:
the hand-off relay (bot/handoff_relay.py: what members write while an agent
has the conversation) and the trainers' review feed (bot/backend/event_feed.py).
FanOutEventBroker hands every event to each broker listed under it.

Both brokers below publish only the events the review feed reads (bot/review_events.py).
In the embedded default, SharedSQLiteEventBroker writes them into the `events`
table of the backend's SQLite database, where the review feed reads them (the
scale profile uses RabbitMQ instead, through TurnBatchingPikaEventBroker below). Rasa's SQL broker opens SQLite with its
defaults: a rollback journal synced on every commit, and a writer that fails at
once while the backend writes. This subclass uses WAL (as the backend does) and
waits for the other writer instead. Waiting must not stall Rasa: Rasa publishes
from its event loop, so one writer thread takes the events from a queue, in
order, and commits what has gathered in one transaction (a burst of 50
conversations is one commit, not 50 lock waits on the loop). Close drains it.
"""
import asyncio
import json
import logging
import queue
import threading
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.review_events import REVIEWED_EVENTS

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5000
_STOP = object()  # tells the writer thread to finish


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SharedSQLiteEventBroker(SQLEventBroker):
    def __init__(self, db: str = "var/backend.db", **kwargs: Any) -> None:
        super().__init__(dialect="sqlite", db=db, **kwargs)
        self.engine.dispose()
        self.engine = sa.create_engine(self.engine.url)
        sa.event.listen(self.engine, "connect", _tune_sqlite)
        self.sessionmaker.configure(bind=self.engine)
        self._pending: "queue.Queue[Any]" = queue.Queue()
        self._writer = threading.Thread(target=self._write_until_closed, name="event-broker-writer", daemon=True)
        self._writer.start()

    def publish(self, event: Dict[str, Any]) -> None:
        if event.get("event") in REVIEWED_EVENTS:
            self._pending.put(event)

    def _write_until_closed(self) -> None:
        while True:
            batch = [self._pending.get()]
            while not self._pending.empty():
                batch.append(self._pending.get_nowait())
            events = [event for event in batch if event is not _STOP]
            if events:
                self._write(events)
            if len(events) < len(batch):
                return

    def _write(self, events: List[Dict[str, Any]]) -> None:
        """Rasa's rows (sender_id, data as JSON) in one INSERT for the batch.

        Rasa adds an ORM object per event; the ORM's bookkeeping for them was most
        of this thread's time, and the thread shares Rasa's interpreter lock.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(self.SQLBrokerEvent.__table__.insert(),
                                   [{"sender_id": event.get("sender_id"), "data": json.dumps(event)}
                                    for event in events])
        except Exception:  # the review feed misses these; the conversations are in the tracker store
            log.exception("could not write %d events for the review feed", len(events))

    async def close(self) -> None:
        self._pending.put(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._writer.join)


class TurnBatchingPikaEventBroker(PikaEventBroker):
    """Rasa's pika broker (the same settings), sending the events published in one go as one message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gathered: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        """Gather the event; what gathered is sent once the publisher yields to the event loop."""
        if event.get("event") not in REVIEWED_EVENTS:
            return
        if not self._gathered:
            self._loop.call_soon(self._send_gathered)
        self._gathered.append(event)

    def _send_gathered(self) -> None:
        events, self._gathered = self._gathered, []
        if not events:  # already sent by close()
            return
        task = self._loop.create_task(self._publish_batch(events))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def close(self) -> None:
        """What was published is sent before the connection closes (Rasa's broker may drop it)."""
        self._send_gathered()
        await asyncio.gather(*self._background_tasks, return_exceptions=True)
        await super().close()

    async def _publish_batch(self, events: List[Dict[str, Any]]) -> None:
        """Kept for the reconnection (Rasa's _publish_unpublished_messages) when it fails, as Rasa does."""
        message = self._message(events, None)  # Rasa's persistent message; its body is the list as JSON
        try:
            if self._exchange is None:
                raise ConnectionError("not connected to RabbitMQ")
            await self._exchange.publish(message, "")
        except Exception as error:  # the event texts stay out of the log: they may hold personal data
            log.warning("could not publish %d events to RabbitMQ (%s); kept for the reconnection",
                        len(events), type(error).__name__)
            if self.should_keep_unpublished_messages:
                self._unpublished_events.extend(events)


class FanOutEventBroker(EventBroker):
    """Every event to each broker under `brokers:` (each configured as a broker of its own)."""

    def __init__(self, brokers: List[EventBroker]) -> None:
        self.brokers = brokers

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: Optional[asyncio.AbstractEventLoop] = None) -> "FanOutEventBroker":
        configs: List[Dict[str, Any]] = broker_config.kwargs.get("brokers") or []
        brokers = [await EventBroker.create(EndpointConfig.from_dict(config), event_loop) for config in configs]
        missing = [config.get("type") for config, broker in zip(configs, brokers) if broker is None]
        if missing:
            raise ValueError(f"event broker(s) {missing} could not be created: see the log above")
        return cls(brokers)

    def publish(self, event: Dict[str, Any]) -> None:
        for broker in self.brokers:
            broker.publish(event)

    def is_ready(self) -> bool:
        return all(broker.is_ready() for broker in self.brokers)

    async def close(self) -> None:
        for broker in self.brokers:
            await broker.close()
