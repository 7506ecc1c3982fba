"""What every form in this bot shares: side questions, yes/no answers, asking.

A person in the middle of a form may ask something else ("why do you need
my birthday?", "how long is the reset link good for?"). Rather than one rule
per form and question, the validation action notices a side question,
answers it with the question's own domain response (a short follow-up such
as "how long does that take?" from actions/followups.yml, about what the
form is for) and asks the same slot again. It also asks every question itself (from messages.yml), so forms can
skip questions that the answers so far make unnecessary.
"Never mind" ends the form with nothing sent ("never mind, how do I ...?"
also answers the question), an emergency ends it after telling the user to
call 911, "no, I meant the Learning Center" (a correction naming another
portal than the form's) ends it and answers for that portal, and a change of
mind ("oh wait, it's my username I forgot, not the password") ends it and
answers what is asked instead (a task is offered with a button); all only when
the message is not a valid answer, so an e-mail address misread as "stop" is
still an answer.
When a form's submit fails because the backend is down, `reopen_at` puts the
member back at the form's last question with every other answer kept.
"""
import re
from abc import abstractmethod
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.conversation_topic import line_for_intent, topic_intent
from actions.followups import (CORRECTION, FOLLOWUP_PREFIX, OFFERS, answer_for_portal_meant, followup_reply,
                               is_confused, portal_named, portal_of)
from actions.messages import question_key, say
from actions.parsing import parse_yes_no
from actions.support_numbers import answer_for

REQUESTED_SLOT = "requested_slot"
# Intents that answer a form's question rather than ask one.
ANSWER_INTENTS = {"affirm", "acknowledge", "deny", "nlu_fallback", "greet", "thank"}
STOP_INTENT, EMERGENCY_INTENT, NUMBER_REQUEST = "stop", "medical_emergency", "ask_phone_number"
_STOP_WORDS = re.compile(
    r"\b(never ?mind|nevermind|cancel|stop|forget (it|about it)|quit|exit|don'?t (want|need)|no longer|not anymore)\b", re.I
)
EMERGENCY_MIN_CONFIDENCE = 0.5
_QUESTION_START = re.compile(
    r"^(why|what|how|when|where|who|which|can|could|do|does|is|are|will|would|should)\b", re.I
)
SIDE_QUESTION_MIN_CONFIDENCE = 0.3
# Follow-ups often said as statements, not questions: "I don't have access to that e-mail anymore", "still not working".
STATED_FOLLOWUPS = {"followup_dont_have", "followup_not_working"}
# "oh wait, it's my username, not the password", "actually I need a new code instead": the form is for something
# else. A plain "wait" or "actually" only before another task: "wait, which file types?" is a side question.
_CHANGE_OF_MIND = re.compile(r"\b(instead|i meant|rather|not the|changed my mind)\b", re.I)
_MAYBE_CHANGE_OF_MIND = re.compile(r"\b(actually|wait|oh)\b", re.I)
CHANGE_OF_MIND = "change_of_mind"
CHANGE_MIN_CONFIDENCE = 0.5
# "actually, never mind: how do I renew my meds?": what comes before the question itself.
_LEAD_IN = re.compile(
    r"^((actually|ok(ay)?|hmm+|wait|sorry|oh|but|and|so|um+|never ?mind|nevermind|forget (it|that|about it)|no)\b[\s,.:;!-]*)+",
    re.I)


def reopen_at(form: Text, slot: Text) -> List[EventType]:
    """Events that reopen `form` at `slot`, keeping the other answers (after a submit that could not be made).

    Rasa runs the form again at once, so it asks `slot` again; the member's next
    yes ("try again") completes the form and its rule runs the submit again.
    """
    return [SlotSet(slot, None), ActiveLoop(form), SlotSet(REQUESTED_SLOT, slot)]


class HelpfulFormValidation(FormValidationAction):
    """Base for the forms' validation actions.

    Subclasses set `why_message` (the answer to "why do you need that?"),
    `strict_parsers` (slot -> parser returning None for a non-answer, so a
    side question is only taken as one when it is not a valid answer), and
    may override `required_slots` to skip questions.
    """

    why_message: Text = "why_identity"
    # What the form is for, as the intent that asks for it: a follow-up during the form ("where will it be
    # sent?") is about it even when an offer started the form. None: the conversation's topic.
    request_intent: Optional[Text] = None
    strict_parsers: Dict[Text, Callable[[Text], Any]] = {}
    form_slots: List[Text] = []

    @abstractmethod
    def name(self) -> Text:
        ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested and self.is_valid_answer(tracker, requested) is not True:
            leaving = self.leaving_intent(tracker)
            if leaving:
                return self.end_form(dispatcher, leaving, tracker, domain)
        side_answer = self.side_question_answer(tracker, domain, requested) if requested else None
        if side_answer and _STOP_WORDS.search(tracker.latest_message.get("text") or ""):
            # "never mind, how do I renew my meds?": the question is answered and the form left, nothing sent.
            side_answer(dispatcher)
            return [SlotSet(slot, None) for slot in self.form_slots] + [SlotSet(REQUESTED_SLOT, None)]
        if side_answer:
            side_answer(dispatcher)
            events: List[EventType] = [SlotSet(requested, None)]
        else:
            events = await super().run(dispatcher, tracker, domain)
        events = [e for e in events if e.get("name") != REQUESTED_SLOT]
        tracker.add_slots(events)
        if requested and not any(e.get("name") == requested for e in events):
            # Nothing usable was said: keep asking rather than leave the form.
            events.append(SlotSet(requested, None))
        next_slot = await self.next_slot_to_ask(dispatcher, tracker, domain)
        if next_slot:
            say(dispatcher, question_key(self.form_name(), next_slot), buttons=self.buttons_for(next_slot),
                **self.question_values(tracker))
        return events + [SlotSet(REQUESTED_SLOT, next_slot)]

    def is_valid_answer(self, tracker: Tracker, requested: Text) -> Optional[bool]:
        """True/False when the requested slot has a strict parser, None when any text may do."""
        parser = self.strict_parsers.get(requested)
        if parser is None:
            return None
        return parser(tracker.latest_message.get("text") or "") is not None

    def leaving_intent(self, tracker: Tracker) -> Optional[Text]:
        """"stop", "medical_emergency", "correction" (to another portal) or a change of mind: the user wants out."""
        intent = tracker.latest_message.get("intent") or {}
        text = tracker.latest_message.get("text") or ""
        if intent.get("name") == EMERGENCY_INTENT and (intent.get("confidence") or 0) >= EMERGENCY_MIN_CONFIDENCE:
            return EMERGENCY_INTENT
        if intent.get("name") == STOP_INTENT and _STOP_WORDS.search(text):
            return STOP_INTENT
        if intent.get("name") == CORRECTION and portal_named(text) not in (None, portal_of(topic_intent(tracker))):
            return CORRECTION
        if self.changes_mind(intent.get("name") or "", intent.get("confidence") or 0.0, text, tracker):
            return CHANGE_OF_MIND
        return None

    def changes_mind(self, intent: Text, confidence: float, text: Text, tracker: Tracker) -> bool:
        """"Oh wait, it's my username I forgot, not the password": a clear question or task of a portal that is
        not what the form is for, said as a change of mind."""
        if confidence < CHANGE_MIN_CONFIDENCE or line_for_intent(intent) is None \
                or intent in (self.request_intent, topic_intent(tracker)):
            return False
        return bool(_CHANGE_OF_MIND.search(text) or (intent in OFFERS and _MAYBE_CHANGE_OF_MIND.search(text)))

    def end_form(self, dispatcher: CollectingDispatcher, leaving: Text, tracker: Tracker,
                 domain: DomainDict) -> List[EventType]:
        """Forget what the form collected and end it; nothing is sent."""
        if leaving == EMERGENCY_INTENT:
            dispatcher.utter_message(response="utter_medical_emergency")
        elif leaving == CORRECTION:
            answer_for_portal_meant(dispatcher, tracker, portal_named(tracker.latest_message.get("text") or ""))
        elif leaving == CHANGE_OF_MIND:
            intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
            if f"utter_{intent}" in (domain.get("responses") or {}):
                dispatcher.utter_message(response=f"utter_{intent}")
            elif intent in OFFERS:
                say(dispatcher, "offer_second_question", buttons=[{"title": OFFERS[intent], "payload": f"/{intent}"}])
            else:
                say(dispatcher, "form_cancelled")
        else:
            say(dispatcher, "form_cancelled")
        return [SlotSet(slot, None) for slot in self.form_slots] + [SlotSet(REQUESTED_SLOT, None)]

    async def next_slot_to_ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[Text]:
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return next((slot for slot in required if tracker.slots.get(slot) is None), None)

    def question_values(self, tracker: Tracker) -> Dict[Text, Any]:
        """The values the questions' {placeholders} are filled with."""
        return dict(tracker.slots)

    def buttons_for(self, slot: Text) -> Optional[List[Dict[str, str]]]:
        """Buttons for a question that the messages file cannot know (e.g. from facts)."""
        return None

    def side_question_answer(
        self, tracker: Tracker, domain: DomainDict, requested: Text
    ) -> Optional[Callable[[CollectingDispatcher], None]]:
        """How to answer the user's side question, if the message was one."""
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name") or ""
        confidence = (message.get("intent") or {}).get("confidence") or 0.0
        text = (message.get("text") or "").strip()
        if intent == "share_sensitive_data":
            return lambda d: d.utter_message(response="utter_share_sensitive_data")
        if intent == "ask_why_needed" and confidence >= SIDE_QUESTION_MIN_CONFIDENCE:
            return lambda d: say(d, self.why_message)
        if self.is_valid_answer(tracker, requested) or is_confused(text):
            return None  # "wait what?": the question itself, asked again, is the answer
        asks = "?" in text or _QUESTION_START.match(_LEAD_IN.sub("", text)) or intent in STATED_FOLLOWUPS
        if asks and intent == NUMBER_REQUEST and confidence >= SIDE_QUESTION_MIN_CONFIDENCE:
            # "can I just call someone instead?": the number for what the form is for, then the question again.
            line = line_for_intent(self.request_intent or topic_intent(tracker))
            return lambda d: d.utter_message(text=answer_for(line))
        if asks and intent.startswith(FOLLOWUP_PREFIX) and confidence >= SIDE_QUESTION_MIN_CONFIDENCE:
            # "how long does that take?" during the form: about what the form is for (actions/followups.yml).
            answer = followup_reply(intent, self.request_intent or topic_intent(tracker), text, domain)
            return lambda d: d.utter_message(**answer)
        response = f"utter_{intent}"
        if (
            asks
            and intent not in ANSWER_INTENTS
            and confidence >= SIDE_QUESTION_MIN_CONFIDENCE
            and response in (domain.get("responses") or {})
        ):
            return lambda d: d.utter_message(response=response)
        return None

    @staticmethod
    def yes_no(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[bool]:
        """The yes/no answer to a confirmation slot, or None after saying what is expected."""
        if isinstance(value, bool):
            return value
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = parse_yes_no(str(value or ""), intent)
        if answer is None:
            say(dispatcher, "invalid_yes_no")
        return answer
