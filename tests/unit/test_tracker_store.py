"""The tracker store (bot/tracker_store.py), on SQLite and on PostgreSQL.

It must write exactly the rows Rasa's own SQL store writes, give every turn
the same conversation state while reading only the recent turns, refuse a
write that another process would make inconsistent, fail clearly and
quickly when the database is gone, and forget personal data on time.
"""
import asyncio
import json
import sqlite3

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.cli import ROOT, free_port
from bot.tracker_store import ConversationChanged, TrackerStoreUnavailable, WindowedSQLTrackerStore
from tests.services import POSTGRES, postgres_database

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def run(coroutine):
    return asyncio.run(coroutine)


def as_json(tracker):
    return json.dumps([event.as_dict() for event in tracker.events], sort_keys=True)


def conversation(*turns, start_at=1.0):
    events = [ActionExecuted("action_session_start", timestamp=start_at), SessionStarted(timestamp=start_at + 1),
              ActionExecuted("action_listen", timestamp=start_at + 2)]
    for i, text in enumerate(turns):
        events += user_turn(text, start_at + 10 + i)
    return events


def user_turn(text, at, intent="greet", slots=()):
    return [UserUttered(text, {"name": intent, "confidence": 1.0}, timestamp=at),
            *[SlotSet(name, value, timestamp=at + 0.1) for name, value in slots],
            ActionExecuted("utter_greet", timestamp=at + 0.5), ActionExecuted("action_listen", timestamp=at + 0.7)]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """Keyword arguments for a store (ours or Rasa's) on a fresh database of each kind."""
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    else:
        with postgres_database("avera_scale_unit") as name:
            yield {"dialect": "postgresql", "host": POSTGRES["host"], "port": POSTGRES["port"], "db": name,
                   "username": POSTGRES["user"]}


def rows(database):
    engine = sa.create_engine(WindowedSQLTrackerStore(DOMAIN, **database).engine.url)
    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                                           "FROM events ORDER BY id")).all()
    engine.dispose()
    return [tuple(row) for row in found]


async def play(store_factory, batches, restart_every_turn=False):
    """Save the first batch, then per batch: read the conversation, add the batch, save."""
    store = store_factory()
    tracker = DialogueStateTracker.from_events("member", batches[0], DOMAIN.slots)
    await store.save(tracker)
    for batch in batches[1:]:
        store = store_factory() if restart_every_turn else store
        tracker = await store.retrieve("member")
        for event in batch:
            tracker.update(event)
        await store.save(tracker)
    return store


@pytest.mark.parametrize("restart_every_turn", [False, True])
def test_writes_the_same_rows_as_rasas_store(database, tmp_path, restart_every_turn):
    """Turn by turn, with a new session and restarts, the table holds what Rasa's own store would write."""
    batches = [conversation("hi"), user_turn("again", 50.0), conversation("new", start_at=200.0)]
    rasa_db = {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")}
    run(play(lambda: SQLTrackerStore(DOMAIN, **rasa_db), batches, restart_every_turn))
    run(play(lambda: WindowedSQLTrackerStore(DOMAIN, **database), batches, restart_every_turn))
    assert len(rows(database)) == len(conversation("hi")) + 3 + len(conversation("new"))
    assert rows(database) == rows(rasa_db)


def test_reads_the_same_session_as_rasas_store(database, tmp_path):
    batches = [conversation("hi", "hello"), conversation("again", start_at=100.0)]
    ours = run(play(lambda: WindowedSQLTrackerStore(DOMAIN, **database), batches))
    rasa = run(play(lambda: SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "r.db")), batches))
    ours_tracker, rasa_tracker = run(ours.retrieve("member")), run(rasa.retrieve("member"))
    assert as_json(ours_tracker) == as_json(rasa_tracker)
    assert [e.text for e in ours_tracker.events if isinstance(e, UserUttered)] == ["again"]


def test_a_long_conversation_is_read_as_its_state_and_recent_turns(database):
    """Turn 100 reads a few turns, yet slots, the active form and the recent messages are Rasa's."""
    batches = [conversation()]
    for turn in range(100):
        slots = [("full_name", f"Name {turn}")] if turn % 7 == 0 else []
        batches.append(user_turn(f"message {turn}", 100.0 + turn, slots=slots))
        if turn == 60:
            batches.append([ActiveLoop("access_code_reissue_form", timestamp=161.0),
                            SlotSet("requested_slot", "date_of_birth", timestamp=161.0),
                            ActionExecuted("action_listen", timestamp=161.1)])
    store = run(play(lambda: WindowedSQLTrackerStore(DOMAIN, window_turns=8, **database), batches))
    everything = DialogueStateTracker.from_events("member", [e for batch in batches for e in batch], DOMAIN.slots)
    read = run(store.retrieve("member"))

    assert len(read.events) < 80  # 8 to 12 turns of 4 events, plus the state: not 400 events
    assert read.current_slot_values() == everything.current_slot_values()
    assert read.slots["full_name"].value == "Name 98"
    assert read.active_loop_name == "access_code_reissue_form"
    texts = [e.text for e in read.events if isinstance(e, UserUttered)]
    assert texts[-8:] == [f"message {turn}" for turn in range(92, 100)]
    assert read.get_last_event_for(UserUttered).timestamp == everything.get_last_event_for(UserUttered).timestamp


def test_a_stale_writer_is_refused_and_writes_nothing(database):
    """Two processes that read the same turn: the second to save is refused instead of interleaving."""
    async def scenario():
        first, second = WindowedSQLTrackerStore(DOMAIN, **database), WindowedSQLTrackerStore(DOMAIN, **database)
        await first.save(DialogueStateTracker.from_events("member", conversation("hi"), DOMAIN.slots))
        mine, theirs = await first.retrieve("member"), await second.retrieve("member")
        for tracker, text in ((mine, "from one"), (theirs, "from two")):
            for event in user_turn(text, 30.0):
                tracker.update(event)
        await first.save(mine)
        with pytest.raises(ConversationChanged):
            await second.save(theirs)
        return await second.retrieve("member")

    stored = run(scenario())
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["hi", "from one"]


def test_an_unknown_conversation_stays_unknown_until_saved(database):
    async def scenario():
        store = WindowedSQLTrackerStore(DOMAIN, **database)
        first = await store.retrieve("nobody")
        created = await store.get_or_create_tracker("nobody")
        return first, created, await store.retrieve("nobody")

    first, created, saved = run(scenario())
    assert first is None
    assert as_json(saved) == as_json(created) and len(saved.events) > 0


def test_personal_data_is_removed_after_the_retention_time(database):
    form_turn = [SlotSet("requested_slot", "full_name", timestamp=20.0), ActionExecuted("action_listen", timestamp=20.1),
                 *user_turn("Jordan Demo", 21.0, slots=[("full_name", "Jordan Demo")])]
    async def scenario():
        store = WindowedSQLTrackerStore(DOMAIN, personal_data_retention_hours=1, purge_interval_minutes=0, **database)
        await play(lambda: store, [conversation("hi"), form_turn, user_turn("recent", 10_000.0)])
        kept = store.purge_personal_data(now=3_000.0)  # 1 hour after turn 1, less after the last
        purged = store.purge_personal_data(now=3_700.0)
        return kept, purged, await store.retrieve("member")

    kept, purged, tracker = run(scenario())
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    # the name slot, the message that answered it, and "hi": the form could have read a name in it
    assert kept == 0 and purged == 3
    assert texts == ["[removed]", "[removed]", "recent"]
    assert tracker.slots["full_name"].value == "[removed]"
    assert "Jordan" not in json.dumps([row[5] for row in rows(database)])


def test_a_name_and_birth_date_said_before_the_form_asked_are_removed_too(database):
    """The identity form reads them from the message that started it and the two before it."""
    said_ahead = [*user_turn("i'm Jordan Demo, born 4/12/1985", 20.0), *user_turn("my code expired", 21.0,
                  slots=[("full_name", "Jordan Demo"), ("date_of_birth", "1985-04-12")]),
                  SlotSet("requested_slot", "contact_on_file", timestamp=21.6)]

    async def scenario():
        store = WindowedSQLTrackerStore(DOMAIN, personal_data_retention_hours=1, purge_interval_minutes=0, **database)
        await play(lambda: store, [conversation("hi", "what is mychart"), said_ahead])
        store.purge_personal_data(now=3_700.0)
        return await store.retrieve("member")

    tracker = run(scenario())
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == ["hi", "[removed]", "[removed]", "[removed]"]
    assert "Jordan" not in json.dumps([row[5] for row in rows(database)])


def test_an_unreachable_postgresql_fails_at_once_with_a_clear_error():
    with pytest.raises(RuntimeError, match="could not be reached within 1 s"):
        WindowedSQLTrackerStore(DOMAIN, dialect="postgresql", host="127.0.0.1", port=free_port(), db="none",
                                username="postgres", timeout_seconds=1, startup_wait_seconds=1)


def test_a_database_gone_mid_conversation_is_reported_not_hidden(tmp_path):
    """Rasa would go on with an empty conversation in memory; this store raises TrackerStoreUnavailable."""
    path = tmp_path / "tracker.db"

    async def scenario():
        store = WindowedSQLTrackerStore(DOMAIN, db=str(path), timeout_seconds=0.2)
        await store.save(DialogueStateTracker.from_events("member", conversation("hi"), DOMAIN.slots))
        tracker = await store.retrieve("member")
        for event in user_turn("lost?", 30.0):
            tracker.update(event)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock: the wait is bounded
        try:
            with pytest.raises(TrackerStoreUnavailable):
                await store.save(tracker)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return await store.retrieve("member")

    stored = run(scenario())
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["hi"]  # nothing half-written
