"""The guided check: "can I see my son's record?".

It asks only what the rules need (relationship, the patient's age and, for
a parent of a teen, emancipation), and takes whatever the first message
already said ("my 17 year old is emancipated") so nobody is asked twice.
The answers follow the rules in the source documents: parents and legal
guardians of minors have access by law (with state differences), never for
emancipated minors; an adult's record is reached through proxy access.
"""
import re
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.form_base import REQUESTED_SLOT, HelpfulFormValidation
from actions.messages import render, say
from bot.facts import facts, phone

TEEN = facts()["teen_access"]
PARENT, GUARDIAN, CAREGIVER, ADULT_FAMILY, OTHER = "parent", "guardian", "caregiver", "adult_family", "other"
# "i'm 16, can my mom see my chart?": the one asking is the minor patient, the other person their parent.
MINOR_ASKS_ABOUT_PARENT = "minor_asks_about_parent"
UNDER_TEEN, TEEN_AGE, ADULT = "under_teen", "teen", "adult"
SLOTS = ["access_relationship", "patient_age", "patient_emancipated"]
EMANCIPATED_MEANING = "utter_teen_emancipated_meaning"  # also the answer to the question outside the check

_CHILD = r"(son|daughter|child|kid|kids|children|teen|teenager|boy|girl|baby|toddler|infant|minor)"
_RELATIONSHIP_IN_SENTENCE = [
    (GUARDIAN, re.compile(r"\bg(ua|au)rd(ia|ai)n(ship)?\b", re.I)),  # "gaurdian" too
    # "i'm his stepdad", "we're foster parents", "grandma here": the asker is no parent, whatever the age.
    (OTHER, re.compile(r"\b(i'?m|i am|as|we'?re|we are) ((his|her|their|the|a|an) )?(step ?(mom|mother|mum|dad|father|parent)s?"
                       r"|foster (mom|mother|mum|dad|father|parent|family)s?|grand(ma|pa|mother|father|parent)s?|aunt|uncle)\b"
                       r"|(?<!my )\b(step ?(mom|mother|mum|dad|father|parent)|foster (mom|mother|dad|father|parent)s?"
                       r"|grand(ma|pa|mother|father|parent)|aunt|uncle) here\b", re.I)),
    (OTHER, re.compile(r"\bmy ([\w-]+ ){0,3}?(grand(son|daughter|child|kid)|niece|nephew|step ?(son|daughter|child|kid)|foster \w+)'?s?\b", re.I)),
    (CAREGIVER, re.compile(r"\b(caregiver|care giver|caretaker|take care of|care for)\b", re.I)),
    (PARENT, re.compile(rf"\bmy ([\w-]+ ){{0,3}}?{_CHILD}'?s?\b|\bmy \d{{1,2}}[- ]?((year|yr)s?[- ]?old'?s?|yo|y/o)\b", re.I)),
    (PARENT, re.compile(r"\b(i'?m|i am|as) ((his|her|their|the|a|my \w+'?s) )?(mom|mother|mum|dad|father|parent)\b", re.I)),
    # "dad here, daughter 14", "mom of a 7 year old here": the asker introduces themselves as the parent.
    (PARENT, re.compile(r"(?<!my )(?<!our )(?<!your )\b(mom|mother|mum|dad|father|parent)( here\b| of (a|an|my|the|two|three|\d+)\b)", re.I)),
    (ADULT_FAMILY, re.compile(r"\bmy (own |elderly |aging |older )?(mom|mother|mum|dad|father|parents?|grand(ma|pa|mother|father|parents?)|husband|wife|spouse|partner)'?s?\b", re.I)),
    # "wife's records", "i'm her son": the patient is a spouse or a parent, an adult.
    (OTHER, re.compile(r"\b(my )?(brother|sister|sibling|aunt|uncle|cousin)'?s\b", re.I)),
    (ADULT_FAMILY, re.compile(r"\b(husband|wife|spouse|partner)'s\b|\b(i'?m|i am) (his|her|their) (son|daughter|child|husband|wife|spouse|partner)\b", re.I)),
]
# Only when the relationship was asked: a bare "mom" or "aunt" is an answer.
_RELATIONSHIP_ANSWER = [
    (GUARDIAN, re.compile(r"\bg(ua|au)rd(ia|ai)n\b", re.I)),
    (OTHER, re.compile(r"\b(grand\w*|aunt|uncle|niece|nephew|cousin|brother|sister|sibling|friend|neighbou?r|"
                       r"foster|step ?\w+|in-?law|relative|other)\b", re.I)),
    (CAREGIVER, re.compile(r"\b(caregiver|caretaker|carer|nurse|aide)\b", re.I)),
    (PARENT, re.compile(r"\b(mom|mother|mum|dad|father|parent)\b", re.I)),
    (ADULT_FAMILY, re.compile(r"\b(son|daughter|child|spouse|husband|wife|partner)\b", re.I)),
]
# A clause that is only a child word, unasked, among the patient's facts; asked, "son" is the asker.
_CHILD_CLAUSE = re.compile(r"^\s*(son|daughter|kid|child|boy|girl)\s*$", re.I)
_ADULT_WORDS = re.compile(r"\b(adult|grown|elderly|senior|over 18|18 or older|aging)\b", re.I)
_TEEN_WORDS = re.compile(r"\b(teen|teenager|teenage)s?\b", re.I)
_YOUNG_WORDS = re.compile(r"\b(baby|infant|toddler|newborn|little one)\b", re.I)
_AGE_NUMBER = re.compile(r"\b(\d{1,3})(?:\s*(?:-|\s)?\s*(?:years?|yrs?|yo|y/o)\b(?:[- ]old)?|\s*[.!]?\s*$)", re.I)
# "oops i meant 18": a corrected age.
_AGE_AFTER_VERB = re.compile(r"\b(?:is|s|shes|hes|are|aged?|turned|turns|turning|meant|actually)\s+(\d{1,3})\b", re.I)
# "dad here, daughter 14, not emancipated": a number right after the child word is the child's age.
_AGE_AFTER_CHILD = re.compile(
    rf"\b(?:grand|step ?)?(?:{_CHILD}|niece|nephew)\s*,?\s*(?:aged?\s*)?(?P<age>\d{{1,2}})\b(?![:/.]\d)(?!\s*(?:%|am\b|pm\b|weeks?|months?|days?|hours?|times?|minutes?|kids|children))", re.I)
# "brother's records. 30. how": a number that is a clause of its own is the age.
_AGE_CLAUSE = re.compile(r"(?:^|[.,;!?])\s*(\d{1,3})\s*[.,;!?]")
# "i'm the caregiver for my dad": the person cared for is the user's parent or grandparent, an adult.
_CARES_FOR_AN_ELDER = re.compile(
    r"\b(caregiver|care giver|caretaker|take care of|taking care of|care for|caring for)( for| of)? my "
    r"(own |elderly |aging |older )?(mom|mother|mum|dad|father|parents?|grand(ma|pa|mother|father|parents?))\b", re.I)
_ONE_NUMBER = re.compile(r"\b(\d{1,3})\b")
_NUMBER_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_AGE_WORDS = "|".join(_NUMBER_WORDS) + "|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_AGE_WORD = re.compile(rf"\b({_AGE_WORDS})\b(?=(?:[- ](?:years?|yrs?|yo)\b)|\s*[.!]?\s*$)", re.I)
# "my boy is fourteen and he ...": a number word after "is" or "turned" is the age ("is one" is too often not).
_AGE_WORD_AFTER_VERB = re.compile(
    rf"\b(?:is|s|shes|hes|aged?|turned|turns|turning)\s+(?!(?:zero|one)\b)({_AGE_WORDS})\b", re.I)
_NOT_EMANCIPATED = re.compile(r"\b(not|isn'?t|is not|never been|wasn'?t|aren'?t|s not)( been)? emancipated\b", re.I)
_UNSURE = re.compile(r"\b(no idea|not sure|unsure|don'?t know|no clue|maybe|might be)\b", re.I)
_EMANCIPATED = re.compile(r"\bemancipated\b", re.I)
_QUESTION = re.compile(r"\?|^(why|what|how|when|where|who|which|can|could|do|does|is|are|will|would|should)\b", re.I)
_EMANCIPATED_MEANING = re.compile(r"\b(emancipat\w*)\b.*\b(mean|means|meaning|is that)\b|\bwhat('?s| is| does)\b.*\bemancipat", re.I)
_YES_WORDS = {"y", "yes", "yeah", "yea", "yep", "yup", "ya", "correct", "right", "true", "affirmative", "she is",
              "he is", "they are", "she s", "he s", "they re", "yes she is", "yes he is", "yes they are"}
_NO_WORDS = {"n", "no", "nope", "nah", "not", "negative", "no way", "never", "no she isn t", "no he isn t",
             "she isn t", "he isn t", "she is not", "he is not", "they are not", "they aren t", "she s not",
             "he s not", "no she s not", "no he s not", "no she is not", "no he is not", "not at all"}

# "no, she's 16": a yes or no word first, unless it is "no idea" or "no clue".
_LEADING_YES_NO = re.compile(r"^(yes|yeah|yep|yup|no|nope|nah)\b[,.!]?\s+(?!(idea|clue|sure|i don'?t|one)\b)\w", re.I)


# "i'm 16", "im only 15", "i am a 17 year old", "i just turned 14": the one asking gives their own age;
# not "i'm 16 weeks along" nor "i'm his mom" (no number).
_SPEAKER_AGE = re.compile(
    r"\b(?:i'?m|i am)(?: only| just| a)? (\d{1,2})(?![\d/])(?:[- ]?(?:years?|yrs?|yo|y/o)(?:[- ]old)?)?(?! ?(?:weeks?|months?|days?))"
    r"(?! ?(?:years?|yrs?)?[- ]?(?:old)? ?(?:son|daughter|kid|child|boy|girl)\b)|\bi (?:just )?turned (\d{1,2})\b", re.I)
_MY_PARENTS = re.compile(r"\bmy (?:mom|mother|mum|dad|father|parents?|mom and dad|folks)'?s?\b", re.I)


def speaker_minor_age(text: str) -> Optional[int]:
    """The asker's own age when they say they are under 18 ("i'm 16"), else None."""
    match = _SPEAKER_AGE.search(text)
    years = int(match.group(1) or match.group(2)) if match else None
    return years if years is not None and years <= TEEN["max_age"] else None


def parse_relationship(text: str, asked: bool) -> Optional[str]:
    """The relationship a sentence states; when it was asked, a bare word ("mom", "aunt") too."""
    if _MY_PARENTS.search(text) and speaker_minor_age(text) is not None:
        return MINOR_ASKS_ABOUT_PARENT  # not "my mom" as an adult patient: the asker is the minor
    for relationship, pattern in _RELATIONSHIP_IN_SENTENCE:
        if pattern.search(text):
            return relationship
    if not asked and any(_CHILD_CLAUSE.match(clause) for clause in re.split(r"[,.;:!]", text)):
        return PARENT  # "16, daughter, not emancipated. can i see her records": the patient, listed
    if asked and not is_question(text):
        for relationship, pattern in _RELATIONSHIP_ANSWER:
            if pattern.search(text):
                return relationship
    return None


def age_group(text: str) -> Optional[str]:
    """under_teen, teen (14-17) or adult, from "15", "my 17 year old", "fifteen", "teenager", "elderly",
    "caregiver for my dad"."""
    # "i'm 16, can my mom see my chart?": the asker's own age, not a number said about the parent.
    years = speaker_minor_age(text) if _MY_PARENTS.search(text) else None
    if years is not None:
        return UNDER_TEEN if years < TEEN["min_age"] else TEEN_AGE
    if match := _AGE_NUMBER.search(text) or _AGE_AFTER_VERB.search(text) or _AGE_CLAUSE.search(text):
        years = int(match.group(1))
    elif match := _AGE_AFTER_CHILD.search(text):
        years = int(match.group("age"))
    elif match := _AGE_WORD.search(text) or _AGE_WORD_AFTER_VERB.search(text):
        years = _NUMBER_WORDS.get(match.group(1).lower(), 20)
    if years is not None:
        if years < TEEN["min_age"]:
            return UNDER_TEEN
        return TEEN_AGE if years <= TEEN["max_age"] else ADULT
    if _ADULT_WORDS.search(text) or _CARES_FOR_AN_ELDER.search(text):
        return ADULT
    if _TEEN_WORDS.search(text):
        return TEEN_AGE
    if _YOUNG_WORDS.search(text):
        return UNDER_TEEN
    return None


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text.strip()))


def clear_yes_no(text: str) -> Optional[bool]:
    """True or False only for a clear answer: the buttons, "yes", "nope", "she is", "he isn't".

    "ok", "ok thanks", "hmm" or "sure" answer nothing here: a wrong guess
    would tell a parent they have no access.
    """
    first_clause = re.split(r"[,.;!]| but | and ", text.lower())[0]
    for part in (text.lower(), first_clause):
        words = " ".join(re.sub(r"[^a-z ]", " ", part.replace("'", " ")).split())
        words = re.sub(r" (emancipated|thanks|thank you)$", "", words)
        if words in _YES_WORDS:
            return True
        if words in _NO_WORDS:
            return False
    lead = _LEADING_YES_NO.match(text.strip())
    if lead:
        return lead.group(1).lower() in ("yes", "yeah", "yep", "yup")
    return None


def parse_emancipated(text: str, asked: bool) -> Optional[bool]:
    """Said in a clause ("she is emancipated", "not emancipated") or, when asked, a clear yes or no.

    Clauses, not sentences: in "can I see her chart, she's emancipated" the fact follows a question."""
    for sentence in re.findall(r"[^.?!,;]+[.?!]?", text):
        if not _EMANCIPATED.search(sentence) or is_question(sentence) or _UNSURE.search(sentence):
            continue
        if _NOT_EMANCIPATED.search(sentence) or re.search(r"\b(no|not|nope)\b", sentence, re.I):
            return False
        return True
    return clear_yes_no(text) if asked and not is_question(text) else None


# While "Is your child an emancipated minor?" waits: "what does that mean?", "meaning?", "what's that?".
_WHAT_IT_MEANS = re.compile(
    r"\bwhat\b.{0,25}\bmean(s|ing|t)?\b|^\W*(meaning|definition)\W*$|\bmeaning what\b"
    r"|^\W*((ok|okay|hmm+|wait|sorry|um+)\W+)*what('?s| is| does) (that|this|it)( word)?\W*$|\bdefine\b", re.I)


def asks_what_emancipated_means(text: str, asked: bool = False) -> bool:
    """"What does emancipated mean?" anywhere; "what does that mean?" when the emancipation question was asked."""
    return bool(_EMANCIPATED_MEANING.search(text) or (asked and _WHAT_IT_MEANS.search(text)))


_PERSON_WORDS = set("""mom mother mum mommy dad father daddy parent parents husband wife spouse partner son daughter child
    kid kids children boy girl baby brother sister sibling grandma grandpa grandmother grandfather grandparent grandparents
    grandson granddaughter grandchild grandkid niece nephew aunt uncle cousin stepson stepdaughter stepchild stepkid
    stepmom stepdad foster teen teenager fiance fiancee boyfriend girlfriend""".split())
# Words that may stand around a person in "no, I meant my stepdaughter", "and my wife's?", "what about the older one, 16".
_AROUND_A_PERSON = set("""and or but what how about for no nope sorry actually i meant mean my his her our their the other
    older younger oldest youngest little big one ones record records chart too also then instead own s in law step
    he she is hes shes years year yrs yr old yo not""".split())


def names_only_a_person(text: str) -> bool:
    """"and my wife's?", "no i meant my stepdaughter", "what about my son, 19": a person (and an age), nothing else.

    Such a message asks for no record of its own and tells nothing else (no symptom, no question of its own),
    so right after a verdict it is the check again for that person, whatever the classifier made of it."""
    words = [w[:-1] if w.endswith("s") and w[:-1] in _PERSON_WORDS else w  # "wifes", "moms"
             for w in re.findall(r"[a-z]+|\d+", (text or "").lower())]
    return any(w in _PERSON_WORDS for w in words) and all(
        w in _PERSON_WORDS or w in _AROUND_A_PERSON or (w.isdigit() and len(w) <= 2) for w in words)


def relationship_from_last_check(tracker: Tracker) -> Optional[str]:
    """The relationship of a check that just ended, for "and my other child, who is 12?"."""
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    if last_user is None:
        return None
    actions = [e.get("name") for e in events[:last_user] if e.get("event") == "action"]
    actions = [name for name in actions if name != "action_listen"]
    if not actions or actions[-1] != "action_explain_record_access":
        return None
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == "access_relationship" and event.get("value"):
            return event["value"]
    return None


EARLIER_MESSAGES = 2


def earlier_messages(tracker: Tracker) -> List[Text]:
    """The user's messages just before the latest one, newest first, for facts said before the check."""
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"][:-1]
    return list(reversed(texts[-EARLIER_MESSAGES:]))


_PARSERS = {
    "access_relationship": lambda text: parse_relationship(text, asked=True),
    "patient_age": age_group,
    "patient_emancipated": lambda text: parse_emancipated(text, asked=True),
}


class ValidateRecordAccessForm(HelpfulFormValidation):
    """Every fact is read from every message, in any order; only the question asked takes a bare answer."""

    why_message = "why_record_access"
    request_intent = "check_record_access"  # also when a yes to the offer after the general rules started it
    form_slots = SLOTS
    strict_parsers = _PARSERS

    def name(self) -> Text:
        return "validate_record_access_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """All three are kept whenever they are said; `next_slot_to_ask` asks only what the rules need."""
        return SLOTS

    async def next_slot_to_ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[Text]:
        relationship = tracker.get_slot("access_relationship")
        age = tracker.get_slot("patient_age")
        needed = ["access_relationship"]
        if relationship not in (ADULT_FAMILY, MINOR_ASKS_ABOUT_PARENT):
            needed.append("patient_age")
        if relationship in (PARENT, GUARDIAN) and age == TEEN_AGE:
            needed.append("patient_emancipated")
        return next((slot for slot in needed if tracker.get_slot(slot) is None), None)

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """All three facts, not only the ones needed so far: "my 16 year old is emancipated" has them all."""
        text = tracker.latest_message.get("text") or ""
        requested = tracker.get_slot(REQUESTED_SLOT)
        found: Dict[Text, Any] = {}
        relationship = parse_relationship(text, requested == "access_relationship")
        age = age_group(text) or (age_group(_ONE_NUMBER.search(text)[1]) if requested == "patient_age"
                                   and len(_ONE_NUMBER.findall(text)) == 1 else None)
        if requested is None:
            # The check starts: "my teen wants her own account" ... "can I still see her record?"
            relationship = relationship or relationship_from_last_check(tracker)
            earlier = earlier_messages(tracker)
            relationship = relationship or next(filter(None, (parse_relationship(t, False) for t in earlier)), None)
            age = age or next(filter(None, (age_group(t) for t in earlier)), None)
        if relationship:
            found["access_relationship"] = relationship
        if age:
            found["patient_age"] = age
        emancipated = parse_emancipated(text, requested == "patient_emancipated")
        if emancipated is not None:
            found["patient_emancipated"] = emancipated
        if requested == "patient_age" and not found:
            say(dispatcher, "invalid_patient_age")
        if requested == "patient_emancipated" and emancipated is None and _UNSURE.search(text):
            # "I don't know": what it means and whom to ask, then the question again.
            dispatcher.utter_message(response=EMANCIPATED_MEANING)
        tracker.slots.update(found)
        return [SlotSet(slot, value) for slot, value in found.items()]

    def side_question_answer(
        self, tracker: Tracker, domain: DomainDict, requested: Text
    ) -> Optional[Callable[[CollectingDispatcher], None]]:
        text = tracker.latest_message.get("text") or ""
        if asks_what_emancipated_means(text, asked=requested == "patient_emancipated"):
            return lambda d: d.utter_message(response=EMANCIPATED_MEANING)
        return super().side_question_answer(tracker, domain, requested)


VERDICTS = ("record_access_adult", "record_access_emancipated", "record_access_parent_of_minor",
            "record_access_other_relationship", "record_access_minor_asks_about_parent")


def verdict_topic(verdict: Text) -> Text:
    """What the conversation is about after a verdict: "how do I set that up?" is answered under this name
    in actions/followups.yml, with the verdict's own facts (proxy access for an adult, none for a parent)."""
    return f"check_{verdict}"


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
        adult, emancipated, parent_of_minor, other, minor_asks = VERDICTS
        if relationship == MINOR_ASKS_ABOUT_PARENT:
            verdict = minor_asks  # the rules for parents, told to the teen: no emancipation question first
        elif relationship == ADULT_FAMILY or age == ADULT:
            verdict = adult
        elif relationship in (PARENT, GUARDIAN):
            verdict = emancipated if tracker.get_slot("patient_emancipated") is True else parent_of_minor
        else:
            verdict = other
        dispatcher.utter_message(text=render(verdict, support_phone=phone("mychart")),
                                 utter_action=f"utter_{verdict_topic(verdict)}")
        return [SlotSet(slot, None) for slot in SLOTS]
