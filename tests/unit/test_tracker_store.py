"""The embedded tracker store answers exactly what Rasa's SQL store reads from the file."""
import asyncio
import json

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
