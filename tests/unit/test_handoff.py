"""The hand-off offer: help-desk hours decide between a chat agent and a message; the summary and
transcript the agent gets keep no identity details and no secrets."""
from datetime import datetime, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff, settings
from bot.unavailable import action_unavailable_text


def tracker(events, slots=None) -> Tracker:
    said = next((e for e in reversed(events) if e.get("event") == "user"), {})
    latest = {**said.get("parse_data", {}), "text": said.get("text")}  # what Rasa sends as latest_message
    return Tracker("member-1", slots or {}, latest, events, False, None, {}, None)


def user(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "text": text}}


def bot(text):
    return {"event": "bot", "text": text}


WEEKDAYS = handoff.HelpDeskHours.parse("mon-fri 08:00-17:00", "America/Chicago")


@pytest.mark.parametrize("moment, open_", [
    (datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc), True),    # Monday 08:00 in Chicago
    (datetime(2026, 11, 30, 13, 59, tzinfo=timezone.utc), False),  # Monday 07:59
    (datetime(2026, 11, 30, 23, 0, tzinfo=timezone.utc), False),   # Monday 17:00: closed
    (datetime(2026, 12, 5, 16, 0, tzinfo=timezone.utc), False),    # Saturday
])
def test_help_desk_hours_in_their_time_zone(moment, open_):
    assert WEEKDAYS.is_open(moment) is open_


def test_help_desk_hours_spanning_the_weekend_always_and_never():
    fri_to_mon = handoff.HelpDeskHours.parse("fri-mon 09:00-12:00", "UTC")
    assert fri_to_mon.days == (4, 5, 6, 0)
    monday_morning = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    assert handoff.HelpDeskHours.parse("always", "UTC").is_open(monday_morning)
    assert not handoff.HelpDeskHours.parse("never", "UTC").is_open(monday_morning)
    with pytest.raises(ValueError):
        handoff.HelpDeskHours.parse("weekdays 9 to 5", "UTC")


async def offer(monkeypatch, hours: str, events) -> str:
    monkeypatch.setattr(settings, "HELP_DESK_HOURS", hours)
    dispatcher = CollectingDispatcher()
    await handoff.OfferHandoff().run(dispatcher, tracker(events), {})
    return "\n".join(message["text"] for message in dispatcher.messages)


async def test_outside_help_desk_hours_the_offer_is_the_number_or_a_message(monkeypatch):
    text = await offer(monkeypatch, "never", [user("can I talk to a person", "request_human")])
    assert "nobody can answer in the chat right now" in text and "leave a message" in text
    assert "855-667-9704 (24/7)" in text


async def test_during_help_desk_hours_the_offer_says_what_happens_and_asks(monkeypatch):
    text = await offer(monkeypatch, "always", [user("can I talk to a person", "request_human")])
    assert "Shall I connect you?" in text and "reference number" in text and "stay quiet" in text
    assert "855-667-9704 (24/7)" in text


async def test_after_two_messages_not_understood_topics_come_first(monkeypatch):
    events = [user("blorf", "nlu_fallback"), bot("Sorry"), user("zorp", "nlu_fallback")]
    text = await offer(monkeypatch, "never", events)
    assert text.index("I'm still not sure what you need") < text.index("leave a message")


async def test_the_offer_gives_the_number_of_the_topic(monkeypatch):
    events = [user("how do I see my health plans claims", "health_plans_claims"), bot("..."),
              user("can I talk to a person", "request_human")]
    assert "888-322-2115" in await offer(monkeypatch, "always", events)


def test_reasons_and_what_the_agent_reads():
    assert handoff.reason_for(tracker([user("this is useless", "frustration")])) == "frustration"
    assert handoff.reason_for(tracker([user("blorf", "nlu_fallback"), bot("Sorry"),
                                       user("zorp", "nlu_fallback")])) == "not_understood_twice"
    failure = handoff.MESSAGES["too_many_attempts"]["text"].format(support_phone="855-667-9704")
    assert handoff.reason_for(tracker([bot(failure), user("a person please", "request_human")])) == \
        "verification_failed"
    # Said by Rasa itself when no action server answers (bot/unavailable.py): the agent reads why.
    assert handoff.reason_for(tracker([bot(action_unavailable_text()), user("a person please", "request_human")])) \
        == "backend_unavailable"

    events = [user("my ssn is 123-45-6789 and my password is Hunter-22", "share_sensitive_data"),
              {"event": "action", "name": "utter_share_sensitive_data"},
              {"event": "active_loop", "name": "access_code_reissue_form"}]
    slots = {"full_name": "Dana Quill", "date_of_birth": "1984-02-29", "facility_name": "Prairie Clinic"}
    summary = handoff.summary_of(tracker(events, slots), "asked_for_person")
    assert summary["answers"] == {"facility_name": "Prairie Clinic"}
    assert summary["tried"] == ["answered share sensitive data", "started access code reissue form"]
    transcript = handoff.transcript_of(tracker(events))
    assert transcript == [{"sender": "user", "text": "my ssn is [removed ssn] and my password is [removed password]"}]


def test_the_reason_is_read_from_the_turn_the_offer_answered():
    events = [user("how long does a lockout last", "lockout_duration"), bot("Locks last a while."),
              user("that's not what I asked", "frustration"), {"event": "action", "name": "action_offer_handoff"},
              bot("Shall I connect you?"), user("yes", "affirm")]
    offer_turn = handoff._turn_before_consent(tracker(events))
    assert handoff.reason_for(offer_turn) == "frustration"


def test_a_contact_added_to_the_yes():
    assert handoff.offered_contact("yes, email me at Dana.Q@example.org") == "dana.q@example.org"
    assert handoff.offered_contact("yes call me on (605) 555-0142") == "6055550142"
    assert handoff.offered_contact("yes please") is None
