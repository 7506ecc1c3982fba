"""One SQL tracker store for the embedded default (SQLite) and the scale profile (PostgreSQL).

Rasa's SQLTrackerStore reads and replays every event of the session on every
turn, counts the stored events to find the new ones, waits forever for an
unreachable database, and its wrapper (FailSafeTrackerStore) then carries on
with an empty conversation kept in memory. This store:

- reads only what a turn needs: a checkpoint (the conversation's state as a
  few events: slots, active form) plus the events of the last
  `window_turns` user turns after it, so a turn costs the same at turn 200
  as at turn 5; sessions start and end as Rasa decides
  (`session_expiration_time` in domain.yml; the store reads from the last
  `session_started`, by timestamp, as Rasa's store does);
- writes only the new events, in one transaction, after checking that
  nobody else wrote to the conversation since it was read: no cache, so
  several processes or replicas can share the database (the lock store
  keeps them from handling one conversation at once; this check refuses
  the write if they ever do);
- bounds every wait (connect, statement and lock time-outs) and, when the
  database cannot be reached, raises `TrackerStoreUnavailable`, which the
  channels turn into a clear message for the user; nothing is half-written;
- removes personal slot values (and the messages that answered them) after
  `personal_data_retention_hours` (`purge_personal_data`, run at start and
  then every `purge_interval_minutes` in a background thread of each Rasa
  process; running it twice changes nothing).

The events table is Rasa's own (same columns, same rows), so Rasa's tools and
`SQLTrackerStore` can still read it.
"""
import asyncio
import json
import logging
import threading
import time
import weakref
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SerializedTrackerAsText, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, ConversationPaused, Event, LoopInterrupted, SessionStarted, SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

# Slots that hold personal data: removed from stored events after the retention time.
PERSONAL_SLOTS = ("full_name", "date_of_birth", "contact_on_file", "identity_confirmed",
                  "facility_name", "facility_address")
REMOVED = "[removed]"
# An identity form reads a name and date of birth from the message that started it and the
# TYPED_AHEAD_MESSAGES - 1 before it (actions/identity.py identity_said): those are personal too.
IDENTITY_SLOTS = ("full_name", "date_of_birth", "contact_on_file")
TYPED_AHEAD_MESSAGES = 3

EVENTS = SQLTrackerStore.SQLEvent.__table__  # Rasa's table: id, sender_id, type_name, timestamp, ...
CHECKPOINTS = sa.Table(
    "tracker_checkpoints", EVENTS.metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("session_start", sa.Float),  # the session the checkpoint belongs to
    sa.Column("through_id", sa.Integer, nullable=False),  # events up to this id are in `events`
    sa.Column("events", sa.Text, nullable=False),  # the state at that point, as a JSON list of events
    sa.Column("updated", sa.Float, nullable=False),
)
SESSION_INDEX = sa.Index("ix_events_sender_type_timestamp", EVENTS.c.sender_id, EVENTS.c.type_name,
                         EVENTS.c.timestamp)

# Where the latest session starts (Rasa: the last `session_started`, by timestamp), the last event's id,
# and the checkpoint, in one round trip.
POSITION = ("SELECT (SELECT max(timestamp) FROM events WHERE sender_id = :sender "
            "AND type_name = 'session_started') AS session_start, "
            "(SELECT max(id) FROM events WHERE sender_id = :sender) AS last_id")
POSITION_AND_CHECKPOINT = (
    f"SELECT position.session_start, position.last_id, checkpoint.session_start AS checkpoint_session, "
    f"checkpoint.through_id, checkpoint.events FROM ({POSITION}) AS position "
    f"LEFT JOIN tracker_checkpoints AS checkpoint ON checkpoint.sender_id = :sender")
# Rasa's SQLTrackerStore._event_query: the latest session is every event stamped at or after its start.
EVENTS_AFTER = ("SELECT id, data FROM events WHERE sender_id = :sender AND id > :after "
                "AND (:session_start IS NULL OR timestamp >= :session_start) ORDER BY id")
LAST_ID = "SELECT max(id) FROM events WHERE sender_id = :sender"
INSERT_EVENT = sa.text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                       "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)")
UPSERT_CHECKPOINT = sa.text(
    "INSERT INTO tracker_checkpoints (sender_id, session_start, through_id, events, updated) "
    "VALUES (:sender, :session_start, :through_id, :events, :updated) "
    "ON CONFLICT (sender_id) DO UPDATE SET session_start = excluded.session_start, "
    "through_id = excluded.through_id, events = excluded.events, updated = excluded.updated")


class TrackerStoreUnavailable(BaseException):
    """The conversation database cannot be reached (or refused the write) within the time-outs.

    A BaseException on purpose: Rasa wraps every tracker store in a
    FailSafeTrackerStore that catches every Exception and silently goes on
    with an empty conversation in memory. The channels catch this and tell
    the user the help desk cannot answer right now (bot/channels).
    """


class ConversationChanged(TrackerStoreUnavailable):
    """Another process wrote to this conversation after it was read: the turn is refused, not merged."""


def event_row(sender_id: str, event: Event) -> Dict[str, Any]:
    """The row Rasa's SQLTrackerStore.save writes for one event."""
    data = event.as_dict()
    return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"), "data": json.dumps(data)}


def state_as_events(tracker: DialogueStateTracker, session_start: Optional[float]) -> List[Event]:
    """Events that rebuild `tracker`'s state at a turn boundary (after action_listen).

    Slots away from their initial value, the active form (interrupted or
    not), paused: what the next turn's prediction and actions read. The
    user turns before it are dropped; the window after it keeps the recent ones.
    """
    stamp = session_start if session_start is not None else time.time()
    events: List[Event] = [ActionExecuted("action_session_start", timestamp=stamp),
                           SessionStarted(timestamp=stamp)]
    events += [SlotSet(name, slot.value, timestamp=stamp) for name, slot in tracker.slots.items()
               if slot.value != slot.initial_value]
    if tracker.active_loop_name:
        events.append(ActiveLoop(tracker.active_loop_name, timestamp=stamp))
        if tracker.active_loop.is_interrupted:
            events.append(LoopInterrupted(True, timestamp=stamp))
    if tracker.is_paused():
        events.append(ConversationPaused(timestamp=stamp))
    events.append(ActionExecuted("action_listen", timestamp=stamp))
    return events


class _Loaded:
    """What retrieve read for one tracker object: save writes only what came after."""

    def __init__(self, count: int, last_id: Optional[int], ids: List[int], prefix: int,
                 session_start: Optional[float]):
        self.count = count  # events in the tracker when it was read
        self.last_id = last_id  # the conversation's last stored event then (None: nothing stored)
        self.ids = ids  # ids of the stored events in the tracker, after the `prefix` checkpoint events
        self.prefix = prefix
        self.session_start = session_start


class WindowedSQLTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Rasa tracker store on SQLite or PostgreSQL (see the module docstring)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        dialect: str = "sqlite",
        port: Optional[int] = None,
        db: str = "var/tracker.db",
        username: Optional[str] = None,
        password: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        window_turns: int = 8,
        timeout_seconds: float = 5,
        startup_wait_seconds: float = 30,
        personal_data_retention_hours: float = 24,
        purge_interval_minutes: float = 60,
        **kwargs: Any,
    ) -> None:
        self.window_turns = int(window_turns)
        self.timeout_seconds = float(timeout_seconds)
        self.retention_seconds = float(personal_data_retention_hours) * 3600
        self.engine = create_engine(dialect, host, port, db, username, password, self.timeout_seconds)
        self._loaded: Dict[int, Tuple[Any, _Loaded]] = {}
        self._create_tables(float(startup_wait_seconds))
        self._purged_until = 0.0
        super().__init__(domain, event_broker, **kwargs)
        if float(purge_interval_minutes) > 0:
            threading.Thread(target=self._purge_forever, args=(float(purge_interval_minutes) * 60,),
                             name="tracker-retention", daemon=True).start()

    # --- Rasa's TrackerStore interface -------------------------------------------------------

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The latest session: the checkpoint's state plus the events after it."""
        # In a thread: Rasa's event loop goes on with other conversations while the database answers.
        session_start, last_id, prefix, rows = await asyncio.to_thread(self._read, sender_id)
        if not rows and not prefix:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, prefix + [json.loads(row.data) for row in rows],
                                                 self.domain.slots if self.domain else None)
        self._remember(tracker, _Loaded(len(tracker.events), last_id, [row.id for row in rows], len(prefix),
                                        session_start))
        return tracker

    def _read(self, sender_id: str) -> Tuple[Optional[float], Optional[int], List[Dict], List[Any]]:
        for attempt in (1, 2):
            try:
                with self._connection() as connection:
                    position = connection.execute(sa.text(POSITION_AND_CHECKPOINT), {"sender": sender_id}).one()
                    prefix: List[Dict] = []
                    after = 0
                    if position.events is not None and position.checkpoint_session == position.session_start:
                        prefix, after = json.loads(position.events), position.through_id
                    rows = connection.execute(sa.text(EVENTS_AFTER), {
                        "sender": sender_id, "after": after, "session_start": position.session_start}).all()
                return position.session_start, position.last_id, prefix, rows
            except TrackerStoreUnavailable as error:
                # A connection the database closed (restart, fail-over): the pool drops them all; read again once.
                if attempt == 2 or not getattr(error.__cause__, "connection_invalidated", False):
                    raise
        raise AssertionError("unreachable")

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        """Every event of every session (the HTTP API's full history), read in one go."""
        with self._connection() as connection:
            rows = connection.execute(sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
                                      {"sender": conversation_id}).all()
        if not rows:
            return None
        return DialogueStateTracker.from_dict(conversation_id, [json.loads(row.data) for row in rows],
                                              self.domain.slots if self.domain else None)

    async def keys(self) -> Iterable[str]:
        with self._connection() as connection:
            return [row[0] for row in connection.execute(sa.text("SELECT DISTINCT sender_id FROM events"))]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the events added since `retrieve`, if nobody else wrote in between."""
        loaded = self._forget(tracker)
        events = list(tracker.events)
        if len(events) == (loaded.count if loaded else 0):
            return  # nothing new (Rasa saves a new, empty tracker before its first turn)
        new = await asyncio.to_thread(self._write, tracker, events, loaded)
        if self.event_broker is not None and new:
            # Exactly what was stored; Rasa's stream_events would re-read the tracker to find it.
            await self._stream_new_events(self.event_broker, new, tracker.sender_id)

    def _write(self, tracker: DialogueStateTracker, events: List[Event], loaded: Optional[_Loaded]) -> List[Event]:
        """Append the new events in one transaction; returns them."""
        with self._transaction(tracker.sender_id) as connection:
            if loaded is None:  # a tracker this store did not read: count what is stored, as Rasa does
                loaded = self._as_stored(connection, tracker.sender_id)
            if connection.execute(sa.text(LAST_ID), {"sender": tracker.sender_id}).scalar() != loaded.last_id:
                raise ConversationChanged(
                    f"Conversation {tracker.sender_id!r} was changed by another process while this one "
                    "handled it (is the lock store shared by every Rasa process?). This turn was not stored.")
            new = events[loaded.count:]
            if new:
                connection.execute(INSERT_EVENT, [event_row(tracker.sender_id, event) for event in new])
            if not any(isinstance(event, SessionStarted) for event in new):
                self._move_checkpoint(connection, tracker, events, loaded)
        return new

    # --- retention ------------------------------------------------------------------------------

    def purge_personal_data(self, now: Optional[float] = None) -> int:
        """Remove personal slot values, and the user messages that gave them, older than the retention time.

        The messages are those that answered a personal question of a form and
        those an identity form read before it asked (TYPED_AHEAD_MESSAGES).

        Returns how many events were changed. Checkpoints older than the
        retention time are deleted (the events they summarise are then read
        in full, already purged). Each run looks only at events that became
        old enough since the previous run of this process.
        """
        cutoff = (now if now is not None else time.time()) - self.retention_seconds
        changed = 0
        with self._connection() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, sender_id, type_name, action_name, data FROM events "
                "WHERE timestamp < :cutoff AND timestamp >= :since "
                "AND (type_name = 'user' OR (type_name = 'slot' AND action_name IN :personal)) ORDER BY id"
            ).bindparams(sa.bindparam("personal", expanding=True)),
                {"cutoff": cutoff, "since": self._purged_until, "personal": list(PERSONAL_SLOTS)}).all()
            asked = self._requested_slots(connection, {row.sender_id for row in rows if row.type_name == "user"})
            said_ahead = self._typed_ahead(connection, asked)
        updates = []
        for row in rows:
            data = json.loads(row.data)
            if row.type_name == "slot" and data.get("value") not in (None, REMOVED):
                data["value"] = REMOVED
            elif row.type_name == "user" and data.get("text") != REMOVED and (
                    asked_for_personal(asked.get(row.sender_id, []), row.id) or row.id in said_ahead):
                data.update(text=REMOVED, parse_data={**data.get("parse_data", {}), "text": REMOVED,
                                                      "entities": []})
            else:
                continue
            updates.append({"id": row.id, "data": json.dumps(data)})
        with self._transaction(None) as connection:
            if updates:
                connection.execute(sa.text("UPDATE events SET data = :data WHERE id = :id"), updates)
                changed = len(updates)
            connection.execute(sa.text("DELETE FROM tracker_checkpoints WHERE updated < :cutoff"),
                               {"cutoff": cutoff})
        self._purged_until = cutoff
        return changed

    def _purge_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                changed = self.purge_personal_data()
                if changed:
                    logger.info("Removed personal data from %d stored events past the retention time.", changed)
            except TrackerStoreUnavailable as error:
                logger.warning("Retention purge postponed: %s", error)
            time.sleep(interval_seconds)

    @staticmethod
    def _requested_slots(connection: Any, senders: set) -> Dict[str, List[Tuple[int, Any]]]:
        """Per conversation, (event id, value) of every `requested_slot` change, in order."""
        found: Dict[str, List[Tuple[int, Any]]] = {}
        if not senders:
            return found
        rows = connection.execute(sa.text(
            "SELECT id, sender_id, data FROM events WHERE type_name = 'slot' AND action_name = 'requested_slot' "
            "AND sender_id IN :senders ORDER BY id").bindparams(sa.bindparam("senders", expanding=True)),
            {"senders": sorted(senders)}).all()
        for row in rows:
            found.setdefault(row.sender_id, []).append((row.id, json.loads(row.data).get("value")))
        return found

    @staticmethod
    def _typed_ahead(connection: Any, asked: Dict[str, List[Tuple[int, Any]]]) -> set:
        """Ids of the user messages an identity form could read before it asked (see IDENTITY_SLOTS)."""
        found: set = set()
        for sender, requested in asked.items():
            starts = [event_id for (event_id, value), (_, before) in zip(requested, [(0, None)] + requested)
                      if value in IDENTITY_SLOTS and before is None]
            for start in starts:
                found.update(row.id for row in connection.execute(sa.text(
                    "SELECT id FROM events WHERE sender_id = :sender AND type_name = 'user' AND id < :start "
                    "ORDER BY id DESC LIMIT :count"),
                    {"sender": sender, "start": start, "count": TYPED_AHEAD_MESSAGES}))
        return found

    # --- internals ----------------------------------------------------------------------------------

    def _as_stored(self, connection: Any, sender_id: str) -> _Loaded:
        """What Rasa's store would consider stored: the latest session's events, counted."""
        session_start, last_id = connection.execute(sa.text(POSITION), {"sender": sender_id}).one()
        ids = [row.id for row in connection.execute(sa.text(EVENTS_AFTER), {
            "sender": sender_id, "after": 0, "session_start": session_start})]
        return _Loaded(len(ids), last_id, ids, 0, session_start)

    def _move_checkpoint(self, connection: Any, tracker: DialogueStateTracker, events: List[Event],
                         loaded: _Loaded) -> None:
        """Every few turns, summarise all but the last `window_turns` user turns as a new checkpoint.

        Only stored events the tracker was read with can end a checkpoint
        (their ids are known); the summary is the state right before a user
        message, rebuilt by Rasa from the events themselves.
        """
        stored = events[loaded.prefix:loaded.count]
        user_turns = [i for i, event in enumerate(events[loaded.prefix:], start=loaded.prefix)
                      if isinstance(event, UserUttered)]
        if len(user_turns) < self.window_turns + max(2, self.window_turns // 2):
            return
        boundary = user_turns[-self.window_turns]  # index in `events` of the first user turn kept
        if not loaded.prefix < boundary <= loaded.count or len(loaded.ids) != len(stored):
            return
        before = DialogueStateTracker.from_events(tracker.sender_id, events[:boundary],
                                                  self.domain.slots if self.domain else [])
        if before.latest_action_name != "action_listen":
            return
        summary = state_as_events(before, loaded.session_start)
        connection.execute(UPSERT_CHECKPOINT, {
            "sender": tracker.sender_id, "session_start": loaded.session_start,
            "through_id": loaded.ids[boundary - loaded.prefix - 1],
            "events": json.dumps([event.as_dict() for event in summary]), "updated": time.time()})

    def _remember(self, tracker: DialogueStateTracker, loaded: _Loaded) -> None:
        key = id(tracker)
        self._loaded[key] = (weakref.ref(tracker, lambda _ref: self._loaded.pop(key, None)), loaded)

    def _forget(self, tracker: DialogueStateTracker) -> Optional[_Loaded]:
        ref, loaded = self._loaded.pop(id(tracker), (None, None))
        return loaded if ref is not None and ref() is tracker else None

    def _connection(self) -> Any:
        """For reads: no transaction around them (each statement sees committed rows), no BEGIN/ROLLBACK."""
        return _Guarded(self.engine, autocommit=True)

    def _transaction(self, sender_id: Optional[str]) -> Any:
        return _Guarded(self.engine, transaction=True, sender_id=sender_id)

    def _create_tables(self, wait_seconds: float) -> None:
        """Create the tables if needed, waiting at most `wait_seconds` for the database."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                with self.engine.begin() as connection:
                    if self.engine.dialect.name == "postgresql":  # replicas starting together
                        connection.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
                    EVENTS.metadata.create_all(connection, tables=[EVENTS, CHECKPOINTS])
                    SESSION_INDEX.create(connection, checkfirst=True)
                return
            except sa.exc.OperationalError as error:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"The tracker store's database ({self.engine.url!r}) could not be "
                                       f"reached within {wait_seconds:.0f} s: {error.orig}") from error
                logger.warning("Waiting for the tracker store's database: %s", error.orig)
                time.sleep(1)


DATABASE_ERRORS = (sa.exc.DBAPIError, sa.exc.TimeoutError)  # unreachable, timed out, pool exhausted


def unavailable(error: BaseException) -> TrackerStoreUnavailable:
    return TrackerStoreUnavailable(f"The conversation database is unavailable: {getattr(error, 'orig', error)}")


class _Guarded:
    """A connection (optionally in a transaction) whose database errors become TrackerStoreUnavailable."""

    def __init__(self, engine: sa.engine.Engine, transaction: bool = False, sender_id: Optional[str] = None,
                 autocommit: bool = False):
        self.engine = engine
        self.connection: Any = None
        self.transaction = transaction
        self.sender_id = sender_id
        self.autocommit = autocommit

    def __enter__(self) -> Any:
        try:
            self.connection = self.engine.connect()
            if self.autocommit and self.connection.dialect.name == "postgresql":
                self.connection = self.connection.execution_options(isolation_level="AUTOCOMMIT")
            if self.transaction:
                if self.connection.dialect.name == "sqlite":
                    self.connection = self.connection.execution_options(sqlite_immediate=True)
                self.context = self.connection.begin()
                if self.sender_id is not None and self.connection.dialect.name == "postgresql":
                    # One writer per conversation at a time, across replicas, until commit.
                    self.connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:s, 0))"),
                                            {"s": self.sender_id})
            return self.connection
        except DATABASE_ERRORS as error:
            self._close()
            raise unavailable(error) from error

    def __exit__(self, kind: Any, error: Any, _traceback: Any) -> None:
        try:
            if self.transaction:
                if kind is None:
                    self.context.commit()
                else:
                    self.context.rollback()
        except DATABASE_ERRORS as commit_error:
            error, kind = commit_error, type(commit_error)
        finally:
            self._close()
        if kind is not None and issubclass(kind, DATABASE_ERRORS):
            raise unavailable(error) from error

    def _close(self) -> None:
        try:
            if self.connection is not None:
                self.connection.close()
        except DATABASE_ERRORS:
            pass


def asked_for_personal(requested: Sequence[Tuple[int, Any]], user_event_id: int) -> bool:
    """Whether the form was asking for a personal slot when this user message arrived."""
    current = None
    for event_id, value in requested:
        if event_id > user_event_id:
            break
        current = value
    return current in PERSONAL_SLOTS


def create_engine(dialect: str, host: Optional[str], port: Optional[int], db: str, username: Optional[str],
                  password: Optional[str], timeout: float) -> sa.engine.Engine:
    """An engine whose every wait is bounded by `timeout` seconds."""
    if host and "://" in host:
        url = sa.engine.make_url(host)
    elif dialect == "sqlite":
        url = sa.engine.URL.create("sqlite", database=db)
    else:
        url = sa.engine.URL.create("postgresql+psycopg2" if dialect in ("postgresql", "postgres") else dialect,
                                   username=username or None, password=password or None, host=host,
                                   port=int(port) if port else None, database=db)
    milliseconds = int(timeout * 1000)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, future=True, poolclass=sa.pool.QueuePool, pool_size=4, max_overflow=4,
                                  pool_timeout=timeout,
                                  connect_args={"timeout": timeout, "check_same_thread": False,
                                                "isolation_level": None})
        sa.event.listen(engine, "connect", _tune_sqlite)
        sa.event.listen(engine, "begin", _begin_sqlite)
        return engine
    return sa.create_engine(
        # No pre-ping (a round trip per checkout): a connection found dead invalidates the whole pool, and
        # retrieve reads again once.
        url, future=True, pool_size=8, max_overflow=8, pool_timeout=timeout,
        connect_args={"connect_timeout": max(1, int(timeout)), "keepalives": 1, "keepalives_idle": 5,
                      "keepalives_interval": 2, "keepalives_count": 2,
                      "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds} "
                                 f"-c idle_in_transaction_session_timeout={milliseconds * 2}"})


def _tune_sqlite(connection: Any, _record: Any) -> None:
    """WAL: readers never wait for the writer, and every committed turn survives a crash of the process."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    """Writes take SQLite's write lock at BEGIN, so the check before the insert sees the latest rows."""
    immediate = connection.get_execution_options().get("sqlite_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
