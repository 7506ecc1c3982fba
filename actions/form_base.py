"""What every form in this bot shares: side questions, yes/no answers, re-asking.

A person in the middle of a form may ask something else ("why do you need
my birthday?", "how long is the reset link good for?"). Rather than one rule
per form and question, the validation action notices a side question,
answers it with the question's own response and asks the same slot again.
"Never mind" and emergencies are excluded from the slot mappings in the
domain, so the form is rejected and the rules for them take over.
"""
import re
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.parsing import parse_yes_no

# Intents that answer a form's question rather than ask one.
ANSWER_INTENTS = {"affirm", "deny", "nlu_fallback", "greet", "thank"}
# Excluded from the forms' slot mappings: the form is rejected and a rule
# handles them (stop the form; send the user to 911).
LEAVE_FORM_INTENTS = {"stop", "medical_emergency"}
_QUESTION_START = re.compile(
    r"^(why|what|how|when|where|who|which|can|could|do|does|is|are|will|would|should)\b", re.I
)
SIDE_QUESTION_MIN_CONFIDENCE = 0.3


class HelpfulFormValidation(FormValidationAction):
    """Base for the forms' validation actions.

    Subclasses set `why_response` (the answer to "why do you need that?")
    and `strict_parsers` (slot -> parser returning None for a non-answer), so
    a side question is only taken as one when it is not a valid answer.
    """

    why_response: Text = "utter_why_identity"
    strict_parsers: Dict[Text, Callable[[Text], Any]] = {}

    def name(self) -> Text:  # pragma: no cover - subclasses name themselves
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        response = self.side_question_response(tracker, domain, requested)
        if requested and response:
            dispatcher.utter_message(response=response)
            return [SlotSet(requested, None), SlotSet("requested_slot", requested)]
        return await super().run(dispatcher, tracker, domain)

    def side_question_response(
        self, tracker: Tracker, domain: DomainDict, requested: Optional[Text]
    ) -> Optional[Text]:
        """The response that answers the user's side question, if they asked one."""
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        confidence = (message.get("intent") or {}).get("confidence") or 0.0
        text = (message.get("text") or "").strip()
        if intent in LEAVE_FORM_INTENTS:
            return None
        if intent == "share_sensitive_data":
            return "utter_share_sensitive_data"
        if intent == "ask_why_needed" and confidence >= SIDE_QUESTION_MIN_CONFIDENCE:
            return self.why_response
        parser = self.strict_parsers.get(requested or "")
        if parser is not None and parser(text) is not None:
            return None
        asks = "?" in text or _QUESTION_START.match(text)
        response = f"utter_{intent}"
        if (
            asks
            and intent not in ANSWER_INTENTS
            and confidence >= SIDE_QUESTION_MIN_CONFIDENCE
            and response in (domain.get("responses") or {})
        ):
            return response
        return None

    @staticmethod
    def yes_no(
        slot: Text, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Optional[bool]:
        """The yes/no answer to a confirmation slot, or None after asking again."""
        if isinstance(value, bool):
            return value
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = parse_yes_no(str(value or ""), intent)
        if answer is None:
            dispatcher.utter_message(response="utter_invalid_yes_no")
        return answer
