"""Collecting a member's identity and asking the backend to act on it.

Three forms (access code reissue, password reset, username reminder) ask
the same questions and end the same way: the backend alone decides whether
the details match a record and sends anything only to the contact already
on file. The bot never learns whether there was a match, so it answers
with the same words either way and nothing a user types can skip a check.
"""
import hashlib
from abc import ABC, abstractmethod
from datetime import date
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backend_client
from actions.form_base import REQUESTED_SLOT, HelpfulFormValidation, reopen_at
from actions.messages import say
from actions.parsing import find_date_of_birth, find_full_name, full_name_in_answer, parse_date_of_birth
from actions.record_access import earlier_messages
from bot.contact_formats import find_email, find_us_phone
from bot.facts import facts, phone
from bot.staff import is_staff

IDENTITY_SLOTS = ["full_name", "date_of_birth", "contact_on_file", "identity_confirmed"]
MYCHART_PHONE = phone("mychart")
EMPLOYEE_IT_PHONE = phone("employee_it")


def parse_contact(text: str) -> Optional[str]:
    return find_email(text) or find_us_phone(text)


def date_of_birth_in(text: str) -> Optional[date]:
    """The date of birth in an answer: "3/8/1979", or "3/8/1979, jane@example.org" when more was said."""
    return parse_date_of_birth(text) or find_date_of_birth(text)


def identity_said(tracker: Tracker) -> Dict[Text, Any]:
    """Name, date of birth and contact said before they were asked, or beside the answer to another question.

    When the form starts, the message that started it and the two before it are read
    ("I'm Pat Kim, born 1/2/1960, my code expired" ... "yes, send one"), but only a name
    that is introduced and a date next to "born" or "dob"; inside the form, any date counts.
    Whatever is taken is shown in the confirmation question, where "no" starts over.
    """
    text = tracker.latest_message.get("text") or ""
    requested = tracker.get_slot(REQUESTED_SLOT)
    if requested == "identity_confirmed":
        return {}
    if requested is None:
        texts = [text] + earlier_messages(tracker)
        name = next(filter(None, (find_full_name(t) for t in texts)), None)
        born = next(filter(None, (find_date_of_birth(t, needs_cue=True) for t in texts)), None)
        contact = find_email(text)
    else:
        name = full_name_in_answer(text) if requested == "full_name" else find_full_name(text)
        born = date_of_birth_in(text)
        contact = parse_contact(text)
    found = {"full_name": " ".join(name) if name else None, "date_of_birth": born.isoformat() if born else None,
             "contact_on_file": contact}
    return {slot: value for slot, value in found.items() if value}


class IdentityFormValidation(HelpfulFormValidation):
    """Validates name, date of birth and contact; "no" at the end starts over."""

    why_message = "why_identity"
    form_slots = IDENTITY_SLOTS
    strict_parsers = {
        "date_of_birth": date_of_birth_in,
        "contact_on_file": parse_contact,
    }

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Nobody is asked for what they already said (see identity_said)."""
        found = identity_said(tracker)
        tracker.slots.update(found)
        return [SlotSet(slot, value) for slot, value in found.items()]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if is_staff(tracker):
            # Ends the form before its first question; the request action then sends nothing.
            say(dispatcher, "staff_patient_only", mychart_phone=MYCHART_PHONE, employee_it_phone=EMPLOYEE_IT_PHONE)
            return [SlotSet(slot, None) for slot in self.form_slots] + [SlotSet(REQUESTED_SLOT, None)]
        return await super().run(dispatcher, tracker, domain)

    def validate_full_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        name = full_name_in_answer(str(value or ""))
        if name is None:
            say(dispatcher, "invalid_full_name")
            return {"full_name": None}
        return {"full_name": " ".join(name)}

    def validate_date_of_birth(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        born = date_of_birth_in(str(value or ""))
        if born is None:
            say(dispatcher, "invalid_date_of_birth")
            return {"date_of_birth": None}
        return {"date_of_birth": born.isoformat()}

    def validate_contact_on_file(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        contact = parse_contact(str(value or ""))
        if contact is None:
            say(dispatcher, "invalid_contact_on_file")
        return {"contact_on_file": contact}

    def validate_identity_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        answer = self.yes_no(value, dispatcher, tracker)
        if answer is False:
            say(dispatcher, "identity_start_over")
            return {slot: None for slot in IDENTITY_SLOTS}
        return {"identity_confirmed": answer}


def identity_request(tracker: Tracker) -> Dict[str, str]:
    """The backend request body: the identity fields and a conversation id.

    The conversation id is a hash, so the backend can limit attempts per
    conversation without learning the channel's user id.
    """
    first, last = tracker.get_slot("full_name").split(" ", 1)
    contact = tracker.get_slot("contact_on_file")
    body = {
        "first_name": first,
        "last_name": last,
        "date_of_birth": tracker.get_slot("date_of_birth"),
        "conversation_id": hashlib.sha256(tracker.sender_id.encode()).hexdigest()[:32],
    }
    body["email" if "@" in contact else "phone"] = contact
    return body


class IdentityRequestAction(Action, ABC):
    """Sends the collected identity to one backend endpoint and reports back."""

    send: Callable[[Dict[str, str], Optional[str]], Awaitable[None]]
    done_message: Text
    # Said after done_message when the contact given was a phone number: SMS is not configured.
    phone_contact_message: Optional[Text] = None
    form: Text  # the form that collects the identity: reopened at its confirmation when the backend is down

    @abstractmethod
    def name(self) -> Text:
        ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        clear = [SlotSet(slot, None) for slot in IDENTITY_SLOTS]
        if tracker.get_slot("identity_confirmed") is not True:
            return clear
        try:
            await self.send(identity_request(tracker), backend_client.client_address_of(tracker.events))
        except backend_client.RateLimited:
            say(dispatcher, "too_many_attempts", support_phone=MYCHART_PHONE)
            return clear
        except backend_client.Rejected:
            say(dispatcher, "backend_unavailable", support_phone=MYCHART_PHONE)
            return clear
        except backend_client.BackendUnavailable:
            # Nothing to type again: the form asks for the confirmation again, and a yes retries.
            say(dispatcher, "request_not_sent_answers_kept", support_phone=MYCHART_PHONE)
            return reopen_at(self.form, "identity_confirmed")
        say(
            dispatcher,
            self.done_message,
            support_phone=MYCHART_PHONE,
            reset_minutes=facts()["login"]["reset_link_valid_minutes"],
        )
        if self.phone_contact_message and "@" not in tracker.get_slot("contact_on_file"):
            say(dispatcher, self.phone_contact_message, support_phone=MYCHART_PHONE)
        return clear
