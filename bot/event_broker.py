"""Event brokers: Rasa's events to the backend's two readers of them.

Rasa takes one event broker, and two parts of the help desk read its events:
the hand-off relay (bot/handoff_relay.py: what members write while an agent
has the conversation) and the trainers' review feed (bot/backend/event_feed.py).
FanOutEventBroker hands every event to each broker listed under it.

In the embedded default, SharedSQLiteEventBroker writes every event into the
`events` table of the backend's SQLite database, where the review feed reads
it (the scale profile uses RabbitMQ instead). Rasa's SQL broker opens SQLite with its
defaults: a rollback journal synced on every commit, and a writer that fails at
once while the backend writes. This subclass uses WAL (as the backend does) and
waits for the other writer instead; nothing else changes.
"""
import asyncio
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.utils.endpoints import EndpointConfig

BUSY_TIMEOUT_MS = 5000


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class SharedSQLiteEventBroker(SQLEventBroker):
    def __init__(self, db: str = "var/backend.db", **kwargs: Any) -> None:
        super().__init__(dialect="sqlite", db=db, **kwargs)
        self.engine.dispose()
        self.engine = sa.create_engine(self.engine.url)
        sa.event.listen(self.engine, "connect", _tune_sqlite)
        self.sessionmaker.configure(bind=self.engine)


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
