"""The embedded default's tracker store: Rasa's SQL store on SQLite, tuned for one process.

Two costs dominate a turn with Rasa's SQL store (measured with py-spy while
bench/turns.py ran): reading the conversation back, which deserialises
every event of the session on every turn, and writing it, which opens a
new connection, counts the stored events to know which ones are new, adds
them one ORM object at a time and syncs SQLite's rollback journal several
times. This store keeps the events of recent conversations in memory (the
database is still written on every turn and read after a restart), so it
knows which events are new without asking and inserts them in one
statement, on one pooled connection in WAL mode with synchronous=NORMAL:
every committed turn survives a restart or a crash of the process; only a
power cut can lose the last commits. It is only for one Rasa process (the embedded default, with
the in-memory lock store); the scale profile uses PostgreSQL and Redis
(endpoints.scale.yml) and Rasa's own SQL store.
"""
import json
from collections import OrderedDict
from typing import Any, List, Optional, Tuple

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
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


# Plain SQL on Rasa's `events` table: building and caching SQLAlchemy statements cost more than running them.
INSERT_EVENT = ("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (?, ?, ?, ?, ?, ?)")
HAS_EVENTS = "SELECT 1 FROM events WHERE sender_id = ? LIMIT 1"


def event_row(sender_id: str, event: Event) -> Tuple[Any, ...]:
    """The row Rasa's SQLTrackerStore.save writes for one event, in INSERT_EVENT's order."""
    data = event.as_dict()
    return (sender_id, event.type_name, data.get("timestamp"),
            data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY), data.get("name"), json.dumps(data))


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
        if self.domain is None:
            return await super().retrieve(sender_id)
        events = self._recent.get(sender_id)
        if events is None:
            tracker = await super().retrieve(sender_id) if self._has_events(sender_id) else None
            self._remember(sender_id, list(tracker.events) if tracker else [])
            return tracker
        self._recent.move_to_end(sender_id)
        if not events:
            return None  # as Rasa's store answers for a conversation with no events
        # A fresh tracker over the same (immutable) events: the caller may change it freely.
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        events = list(tracker.events)
        stored = self._recent.get(tracker.sender_id)
        if stored is None or len(events) < len(stored) or (stored and events[len(stored) - 1] != stored[-1]):
            await super().save(tracker)  # not a continuation of what this store wrote: let Rasa count
        else:
            if self.event_broker is not None:  # the new events are known: no need to read the old tracker
                await self._stream_new_events(self.event_broker, events[len(stored):], tracker.sender_id)
            rows = [event_row(tracker.sender_id, event) for event in events[len(stored):]]
            if rows:
                with self.engine.begin() as connection:
                    connection.exec_driver_sql(INSERT_EVENT, rows)
        self._remember(tracker.sender_id, events)

    def _has_events(self, sender_id: str) -> bool:
        """One indexed lookup: most unknown ids are new conversations, with nothing to read."""
        with self.engine.connect() as connection:
            return connection.exec_driver_sql(HAS_EVENTS, (sender_id,)).first() is not None

    def _remember(self, sender_id: str, events: List[Event]) -> None:
        """Keep what the file holds for this conversation's latest session (nothing yet: [])."""
        self._recent[sender_id] = latest_session(events)
        self._recent.move_to_end(sender_id)
        while len(self._recent) > CACHED_CONVERSATIONS:
            self._recent.popitem(last=False)
