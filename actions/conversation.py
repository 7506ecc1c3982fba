"""Conversation repair: stopping a form, and messages the bot did not understand."""
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import identity, record_access, site_requests

# Everything a form collects, so stopping it forgets all of it.
FORM_SLOTS = {
    "access_code_reissue_form": identity.IDENTITY_SLOTS,
    "password_reset_form": identity.IDENTITY_SLOTS,
    "username_reminder_form": identity.IDENTITY_SLOTS,
    "site_request_form": site_requests.FORM_SLOTS,
    "site_request_status_form": ["site_request_reference"],
    "record_access_form": record_access.SLOTS,
}


class CancelForm(Action):
    """"Never mind": leave the form, forget what it collected, send nothing."""

    def name(self) -> Text:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        form = tracker.active_loop.get("name")
        if not form:
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return []
        dispatcher.utter_message(response="utter_form_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + [
            SlotSet(slot, None) for slot in FORM_SLOTS.get(form, [])
        ]


class HandleLowConfidence(Action):
    """First miss: ask to rephrase. Second miss in a row: offer topics and a person."""

    def name(self) -> Text:
        return "action_handle_low_confidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        user_turns = [e for e in tracker.events if e.get("event") == "user"]
        previous = user_turns[-2] if len(user_turns) >= 2 else {}
        previous_intent = ((previous.get("parse_data") or {}).get("intent") or {}).get("name")
        if previous_intent == "nlu_fallback":
            dispatcher.utter_message(response="utter_fallback_options")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
