"""The guided check: "can I see my son's record?".

It asks only what the rules need (relationship, the patient's age and, for
a parent of a teen, emancipation), and takes whatever the first message
already said ("my 17 year old is emancipated") so nobody is asked twice.
The answers follow the rules in the source documents: parents and legal
guardians of minors have access by law (with state differences), never for
emancipated minors; an adult's record is reached through proxy access.
"""
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.form_base import HelpfulFormValidation
from actions.messages import say
from actions.parsing import parse_yes_no
from bot.facts import facts, phone

TEEN = facts()["teen_access"]
PARENT, GUARDIAN, CAREGIVER, ADULT_FAMILY, OTHER = "parent", "guardian", "caregiver", "adult_family", "other"
UNDER_TEEN, TEEN_AGE, ADULT = "under_teen", "teen", "adult"
SLOTS = ["access_relationship", "patient_age", "patient_emancipated"]

_CHILD = r"(son|daughter|child|kid|kids|children|teen|teenager|boy|girl|baby|toddler|infant|minor)"
_RELATIONSHIP_IN_SENTENCE = [
    (GUARDIAN, re.compile(r"\bguardian\b", re.I)),
    (OTHER, re.compile(r"\bmy (grand(son|daughter|child|kid)|niece|nephew|step ?(son|daughter|child|kid))'?s?\b", re.I)),
    (CAREGIVER, re.compile(r"\b(caregiver|care giver|caretaker|take care of|care for)\b", re.I)),
    (PARENT, re.compile(rf"\bmy (\w+ )?{_CHILD}'?s?\b|\bmy \d{{1,2}}[- ]?(year|yr)s?[- ]?old\b", re.I)),
    (PARENT, re.compile(r"\b(i'?m|i am|as) (his|her|their|the|a|my \w+'?s) (mom|mother|mum|dad|father|parent)\b", re.I)),
    (ADULT_FAMILY, re.compile(r"\bmy (elderly |aging |older )?(mom|mother|mum|dad|father|parents?|grand(ma|pa|mother|father|parents?)|husband|wife|spouse|partner)\b", re.I)),
]
_RELATIONSHIP_ANSWER = [
    (PARENT, re.compile(r"\b(mom|mother|mum|dad|father|parent)\b", re.I)),
    (ADULT_FAMILY, re.compile(r"\b(son|daughter|child|spouse|husband|wife|partner)\b", re.I)),
]
_ADULT_WORDS = re.compile(r"\b(adult|grown|elderly|senior|over 18|18 or older|aging)\b", re.I)
_TEEN_WORDS = re.compile(r"\b(teen|teenager|teenage)s?\b", re.I)
_YOUNG_WORDS = re.compile(r"\b(baby|infant|toddler|newborn|little one)\b", re.I)
_AGE_NUMBER = re.compile(r"\b(\d{1,3})(?:\s*(?:-|\s)?\s*(?:years?|yrs?|yo|y/o)\b(?:[- ]old)?|\s*$)", re.I)
_NOT_EMANCIPATED = re.compile(r"\b(not|isn'?t|is not|never been|wasn'?t) emancipated\b", re.I)
_EMANCIPATED = re.compile(r"\bemancipated\b", re.I)


def parse_relationship(text: str, asked: bool) -> Optional[str]:
    for relationship, pattern in _RELATIONSHIP_IN_SENTENCE:
        if pattern.search(text):
            return relationship
    if asked:
        for relationship, pattern in _RELATIONSHIP_ANSWER:
            if pattern.search(text):
                return relationship
        return OTHER
    return None


def age_group(text: str) -> Optional[str]:
    """under_teen, teen (14-17) or adult, from "15", "my 17 year old", "teenager", "elderly"."""
    match = _AGE_NUMBER.search(text)
    if match:
        years = int(match.group(1))
        if years < TEEN["min_age"]:
            return UNDER_TEEN
        return TEEN_AGE if years <= TEEN["max_age"] else ADULT
    if _ADULT_WORDS.search(text):
        return ADULT
    if _TEEN_WORDS.search(text):
        return TEEN_AGE
    if _YOUNG_WORDS.search(text):
        return UNDER_TEEN
    return None


def parse_emancipated(text: str, asked: bool, intent: Optional[str]) -> Optional[bool]:
    if _NOT_EMANCIPATED.search(text):
        return False
    if _EMANCIPATED.search(text):
        return True
    return parse_yes_no(text, intent) if asked else None


class ValidateRecordAccessForm(HelpfulFormValidation):
    why_message = "why_record_access"
    form_slots = SLOTS

    def name(self) -> Text:
        return "validate_record_access_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        relationship = tracker.get_slot("access_relationship")
        age = tracker.get_slot("patient_age")
        slots = ["access_relationship"]
        if relationship != ADULT_FAMILY:
            slots.append("patient_age")
        if relationship in (PARENT, GUARDIAN) and age == TEEN_AGE:
            slots.append("patient_emancipated")
        return slots

    @staticmethod
    def _text_and_asked(tracker: Tracker, slot: Text):
        return tracker.latest_message.get("text") or "", tracker.get_slot("requested_slot") == slot

    async def extract_access_relationship(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text, asked = self._text_and_asked(tracker, "access_relationship")
        relationship = parse_relationship(text, asked)
        return {"access_relationship": relationship} if relationship else {}

    async def extract_patient_age(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text, asked = self._text_and_asked(tracker, "patient_age")
        group = age_group(text)
        if group is None and asked:
            say(dispatcher, "invalid_patient_age")
        return {"patient_age": group} if group else {}

    async def extract_patient_emancipated(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text, asked = self._text_and_asked(tracker, "patient_emancipated")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = parse_emancipated(text, asked, intent)
        return {} if answer is None else {"patient_emancipated": answer}


class ExplainRecordAccess(Action):
    def name(self) -> Text:
        return "action_explain_record_access"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        relationship = tracker.get_slot("access_relationship")
        age = tracker.get_slot("patient_age")
        if relationship is None:
            return []  # the check was stopped
        if relationship == ADULT_FAMILY or age == ADULT:
            message = "record_access_adult"
        elif relationship in (PARENT, GUARDIAN):
            emancipated = tracker.get_slot("patient_emancipated") is True
            message = "record_access_emancipated" if emancipated else "record_access_parent_of_minor"
        else:
            message = "record_access_other_relationship"
        say(dispatcher, message, support_phone=phone("mychart"))
        return [SlotSet(slot, None) for slot in SLOTS]
