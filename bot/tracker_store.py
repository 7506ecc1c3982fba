"""The embedded default's tracker store: Rasa's SQL store on SQLite, tuned for one process.

Two costs dominate a turn with Rasa's SQL store (measured with py-spy while
bench/turns.py ran): reading the conversation back, which deserialises
every event of the session on every turn, and writing it, which opens a
new connection and syncs SQLite's rollback journal several times. This
store keeps the events of recent conversations in memory (the database is
still written on every turn and read after a restart), and uses one pooled
connection in WAL mode with synchronous=NORMAL: every committed turn
survives a restart or a crash of the process; only a power cut can lose the
last commits. It is only for one Rasa process (the embedded default, with
the in-memory lock store); the scale profile uses PostgreSQL and Redis
(endpoints.scale.yml) and Rasa's own SQL store.
"""
from collections import OrderedDict
from typing import Any, List, Optional

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import SingletonThreadPool

CACHED_CONVERSATIONS = 1000


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def latest_session(events: List[Event]) -> List[Event]:
    """The events the SQL store returns: from the last SessionStarted on."""
    starts = [i for i, event in enumerate(events) if isinstance(event, SessionStarted)]
    return events[starts[-1]:] if starts else events


class EmbeddedSQLiteTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Optional[Domain] = None,
        db: str = "var/tracker.db",
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain=domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        self.engine.dispose()
        self.engine = sa.create_engine(self.engine.url, poolclass=SingletonThreadPool)
        sa.event.listen(self.engine, "connect", _tune_sqlite)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._recent: "OrderedDict[str, List[Event]]" = OrderedDict()

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        events = self._recent.get(sender_id)
        if events is None or self.domain is None:
            return await super().retrieve(sender_id)
        self._recent.move_to_end(sender_id)
        # A fresh tracker over the same (immutable) events: the caller may change it freely.
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self._recent[tracker.sender_id] = latest_session(list(tracker.events))
        self._recent.move_to_end(tracker.sender_id)
        while len(self._recent) > CACHED_CONVERSATIONS:
            self._recent.popitem(last=False)
