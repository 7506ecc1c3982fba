"""The embedded tracker store answers exactly what Rasa's SQL store reads from the file."""
import asyncio
import json
import sqlite3

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import EmbeddedSQLiteTrackerStore

DOMAIN = Domain.from_dict({"intents": ["greet"], "responses": {"utter_greet": [{"text": "hi"}]}})


def as_json(tracker):
    return json.dumps([event.as_dict() for event in tracker.events], sort_keys=True)


def conversation(*turns, start_at=1.0):
    events = [ActionExecuted("action_session_start", timestamp=start_at), SessionStarted(timestamp=start_at + 1),
              ActionExecuted("action_listen", timestamp=start_at + 2)]
    for i, text in enumerate(turns):
        events += [UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=start_at + 10 + i),
                   ActionExecuted("utter_greet", timestamp=start_at + 10.5 + i),
                   ActionExecuted("action_listen", timestamp=start_at + 10.7 + i)]
    return events


def test_cached_conversation_matches_the_database(tmp_path):
    async def scenario():
        store = EmbeddedSQLiteTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
        tracker = DialogueStateTracker.from_events("member", conversation("hi", "hello"), DOMAIN.slots)
        await store.save(tracker)
        tracker = await store.retrieve("member")
        for event in conversation("again", start_at=100.0):  # a new session in the same conversation
            tracker.update(event)
        await store.save(tracker)
        from_file = await SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db")).retrieve("member")
        cached = await store.retrieve("member")
        restarted = await EmbeddedSQLiteTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db")).retrieve("member")
        return from_file, cached, restarted

    from_file, cached, restarted = asyncio.run(scenario())
    assert as_json(cached) == as_json(from_file) == as_json(restarted)
    assert [e.text for e in cached.events if isinstance(e, UserUttered)] == ["again"]


def test_a_changed_tracker_does_not_change_the_cache(tmp_path):
    async def scenario():
        store = EmbeddedSQLiteTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
        await store.save(DialogueStateTracker.from_events("member", conversation("hi"), DOMAIN.slots))
        unsaved = await store.retrieve("member")
        unsaved.update(UserUttered("never saved", {"name": "greet", "confidence": 1.0}))
        return await store.retrieve("member")

    assert "never saved" not in as_json(asyncio.run(scenario()))


@pytest.mark.parametrize("restart_every_turn", [False, True])
def test_writes_the_same_rows_as_rasas_store(tmp_path, restart_every_turn):
    """Turn by turn, including a new session and restarts, the file holds what Rasa's own store would write."""

    async def scenario(new_store):
        store = new_store()
        tracker = DialogueStateTracker.from_events("member", conversation("hi"), DOMAIN.slots)
        await store.save(tracker)
        for event_batch in (conversation("again", start_at=100.0)[3:], conversation("new", start_at=200.0)):
            store = new_store() if restart_every_turn else store
            tracker = await store.retrieve("member")
            for event in event_batch:
                tracker.update(event)
            await store.save(tracker)

    def rows(db):
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                                      "FROM events ORDER BY id").fetchall()

    asyncio.run(scenario(lambda: SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))))
    asyncio.run(scenario(lambda: EmbeddedSQLiteTrackerStore(DOMAIN, db=str(tmp_path / "ours.db"))))
    assert len(rows(tmp_path / "ours.db")) == len(conversation("hi")) + 3 + len(conversation("new"))
    assert rows(tmp_path / "ours.db") == rows(tmp_path / "rasa.db")


def test_an_unknown_conversation_stays_unknown_until_saved(tmp_path):
    async def scenario():
        store = EmbeddedSQLiteTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
        first, second = await store.retrieve("nobody"), await store.retrieve("nobody")
        created = await store.get_or_create_tracker("nobody")
        return first, second, created, await store.retrieve("nobody")

    first, second, created, saved = asyncio.run(scenario())
    assert first is None and second is None
    assert as_json(saved) == as_json(created) and len(saved.events) > 0
