"""Hand a conversation to a person at the help desk.

The bot offers first (what will happen, the phone number as the alternative,
and whether chat agents are working now), and only on a yes opens an
escalation in the backend: channel, conversation id, reason, a short summary,
the transcript with secrets masked and the contact the member chose to give.
Then it pauses the conversation in Rasa: the bot stays quiet, every message
is still stored and relayed to the agent (bot/handoff_relay.py), and the
backend resumes it when the agent hands back or resolves.
"""
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Dict, List, Optional, Text, Tuple
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backend_client, settings
from actions.messages import MESSAGES, say
from actions.support_numbers import line_from_context, line_from_words
from bot.contact_formats import find_email, find_us_phone
from bot.facts import facts
from bot.redaction import redact

OFFER_ACTION = "action_offer_handoff"
# Slots that identify a person never go into the summary (DESIGN: no identity details).
IDENTITY_SLOTS = {"full_name", "date_of_birth", "contact_on_file", "identity_confirmed", "admin_name",
                  "admin_email", "second_admin_name", "second_admin_email", "requested_by", "requester_email",
                  "site_request_idempotency_key"}
# Messages after which a flow could not finish: the reason an agent sees.
FLOW_FAILURES = {
    "too_many_attempts": "verification_failed",
    "backend_unavailable": "backend_unavailable",
    "request_not_sent_answers_kept": "backend_unavailable",
    "site_request_unavailable": "backend_unavailable",
    "site_request_rate_limited": "rate_limited",
    "site_request_status_unavailable": "backend_unavailable",
}
TRANSCRIPT_TURNS = 40
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HOURS = re.compile(r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class HelpDeskHours:
    """When chat agents work, e.g. "mon-fri 08:00-17:00" in HELP_DESK_TIMEZONE; "always" or "never"."""

    days: Tuple[int, ...]
    opens: time
    closes: time
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, spec: str, zone: str) -> "HelpDeskHours":
        spec = " ".join(spec.lower().split())
        if spec == "always":
            return cls(tuple(range(7)), time(0, 0), time(23, 59, 59), ZoneInfo(zone), "at any time")
        if spec == "never":
            return cls((), time(0, 0), time(0, 0), ZoneInfo(zone), "never")
        match = _HOURS.match(spec)
        if not match or match["first"] not in DAYS or (match["last"] and match["last"] not in DAYS):
            raise ValueError(f"HELP_DESK_HOURS: expected e.g. 'mon-fri 08:00-17:00', 'always' or 'never', not {spec!r}")
        first, last = DAYS.index(match["first"]), DAYS.index(match["last"] or match["first"])
        days = tuple(range(first, last + 1)) if first <= last else tuple(range(first, 7)) + tuple(range(0, last + 1))
        opens, closes = (time.fromisoformat(match[k].zfill(5)) for k in ("open", "close"))
        day_text = match["first"].title() + (f" to {match['last'].title()}" if match["last"] else "")
        text = f"{day_text}, {opens:%H:%M} to {closes:%H:%M} ({zone.split('/')[-1].replace('_', ' ')} time)"
        return cls(days, opens, closes, ZoneInfo(zone), text)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes


def help_desk_hours() -> HelpDeskHours:
    return HelpDeskHours.parse(settings.HELP_DESK_HOURS, settings.HELP_DESK_TIMEZONE)


def phone_line(tracker: Tracker) -> Dict[str, str]:
    """The number that fits the conversation's topic; MyChart's 24/7 line when none does."""
    line = line_from_words(tracker.latest_message.get("text") or "") or line_from_context(tracker)
    numbers = facts()["phone_numbers"]
    number = numbers.get(line) or numbers["mychart"]
    hours = f" ({number['hours']})" if number.get("hours") else ""
    return {"support_label": number["label"], "support_phone": number["number"] + hours}


def reason_for(tracker: Tracker) -> str:
    """Why the member is handed off: what they said, or what went wrong just before."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == "frustration":
        return "frustration"
    user_intents = [((e.get("parse_data") or {}).get("intent") or {}).get("name")
                    for e in tracker.events if e.get("event") == "user"]
    if user_intents[-2:] == ["nlu_fallback", "nlu_fallback"]:
        return "not_understood_twice"
    last_bot = next((e.get("text") or "" for e in reversed(tracker.events) if e.get("event") == "bot"), "")
    for key, reason in FLOW_FAILURES.items():
        if last_bot.startswith(MESSAGES[key]["text"].split("{")[0]):
            return reason
    return "asked_for_person"


def transcript_of(tracker: Tracker) -> List[Dict[str, str]]:
    """The conversation so far, with any password, SSN or access code masked (again, to be sure)."""
    turns = []
    for event in tracker.events:
        kind = event.get("event")
        text = event.get("text")
        if kind in ("user", "bot") and text:
            turns.append({"sender": kind, "text": redact(text)[0]})
    return turns[-TRANSCRIPT_TURNS:]


def summary_of(tracker: Tracker, reason: str) -> Dict[str, Any]:
    """What an agent reads first: the topic, what the bot already did, form answers without identity details."""
    topic = line_from_context(tracker) or line_from_words(tracker.latest_message.get("text") or "")
    tried = []
    for event in tracker.events:
        name = event.get("name") or ""
        if event.get("event") == "active_loop" and name:
            step = "started " + name.replace("_", " ")
        elif event.get("event") == "action" and name.startswith("utter_") and name != "utter_ask_rephrase":
            step = "answered " + name[len("utter_"):].replace("_", " ")
        elif event.get("event") == "action" and name.startswith("action_") and name not in (
                "action_listen", "action_session_start", "action_extract_slots", OFFER_ACTION):
            step = "ran " + name[len("action_"):].replace("_", " ")
        else:
            continue
        if step not in tried:
            tried.append(step)
    answers = {name: value for name, value in tracker.slots.items()
               if value not in (None, "", []) and name not in IDENTITY_SLOTS and name != "requested_slot"}
    return {"topic": topic or "not known", "reason": reason, "tried": tried[-10:], "answers": answers}


def offered_contact(text: str) -> Optional[str]:
    """An e-mail or phone number the member added to their yes, to be reached if the chat drops."""
    email = find_email(text)
    if email:
        return email
    digits = re.search(r"(\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}", text)
    return find_us_phone(digits.group(0)) if digits else None


class OfferHandoff(Action):
    """Say what a hand-off means and ask first; outside help-desk hours, offer the number or a message."""

    def name(self) -> Text:
        return OFFER_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        hours = help_desk_hours()
        values = {**phone_line(tracker), "hours": hours.text}
        if reason_for(tracker) == "not_understood_twice":
            say(dispatcher, "handoff_not_understood")
        say(dispatcher, "handoff_offer" if hours.is_open(datetime.now().astimezone()) else "handoff_offer_closed",
            **values)
        return []


class StartHandoff(Action):
    """Open the escalation and pause the conversation; if the backend fails, give the number instead."""

    def name(self) -> Text:
        return "action_start_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offer_turn = _turn_before_consent(tracker)
        reason = reason_for(offer_turn) if offer_turn else "asked_for_person"
        contact = offered_contact(tracker.latest_message.get("text") or "")
        escalation = {
            "conversation_id": tracker.sender_id,
            "channel": tracker.get_latest_input_channel() or "rest",
            "reason": reason,
            "summary": summary_of(offer_turn or tracker, reason),
            "transcript": transcript_of(tracker),
            "contact": contact,
        }
        values = phone_line(offer_turn or tracker)
        try:
            created = await backend_client.open_escalation(escalation)
        except (backend_client.BackendUnavailable, backend_client.Rejected, backend_client.RateLimited):
            say(dispatcher, "handoff_unavailable", **values)
            return []
        open_now = help_desk_hours().is_open(datetime.now().astimezone())
        say(dispatcher, "handoff_started" if open_now else "handoff_message_left", reference=created["reference"],
            contact_note=f" If the chat closes, the help desk can reach you at {contact}." if contact else "",
            **values)
        return [ConversationPaused()]


def _turn_before_consent(tracker: Tracker) -> Optional[Tracker]:
    """The conversation as it was when the bot made the offer, so "yes" is not mistaken for the topic."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "action" and events[index].get("name") == OFFER_ACTION:
            earlier = events[:index]
            said = next((e for e in reversed(earlier) if e.get("event") == "user"), {})
            latest = {**(said.get("parse_data") or {}), "text": said.get("text")}  # as Rasa gives latest_message
            return Tracker(tracker.sender_id, tracker.slots, latest, earlier, False, None,
                           tracker.active_loop, tracker.latest_action_name)
    return None
