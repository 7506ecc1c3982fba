"""Answers that lean on the conversation: follow-ups, corrections, two questions, unclear wording.

"How long does that take?" means one thing after a System Link site request
and another after a lockout. The follow-up's intent says what kind of
question it is; actions/conversation_topic.py says what the conversation is
about (the last answer given); actions/followups.yml maps the two to an
answer. Where the table has none, the documents don't say: the bot says so
and gives the topic's number, never a guess. "No, I meant the CE portal"
answers the same question for the portal named (or what that portal is).
Two questions in one message (bot/nlu/two_questions.py) get two answers, or
the first answer and an offer to start the second; a message the model
could not place is read in the light of the conversation's topic before
asking the user to rephrase.
"""
import difflib
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation_topic import (line_for_intent, line_from_words, lines_named, previous_user_intent,
                                       previous_user_message, ruled_out, topic_intent)
from actions.followup_table import TABLE
from actions.messages import MESSAGES, say
from actions.support_numbers import answer_for
from bot.facts import facts, phone

MYCHART = "mychart"
WHAT_IS_IT = "followup_what_is_it"
VAGUE_HOW = "followup_how"
CONFIRM = "followup_confirm"
# A follow-up asked first names its subject: the reading of it that is at least this likely.
NAMED_TOPIC_MIN_CONFIDENCE = 0.15
# "No, I meant MyChart" after one of these asks for that portal's number (the IT help desk's answer is its number:
# "and for my own mychart?" after it asks for MyChart's).
NUMBER_REQUESTS = {"ask_phone_number", "all_support_numbers", "ask_support_hours", "request_human",
                   "employee_network_password"}


def answer_to_followup(kind: Text, about: Optional[Text], text: Text = "") -> Dict[str, Any]:
    """What to say for a follow-up of this kind about this intent: `text` or `response`.

    An entry's `when_said` answers a follow-up that names one detail of the topic (its words, `text`).
    """
    line = line_for_intent(about)
    entry = (TABLE["answers"].get(about) or {}).get(kind)
    if entry and "response" in entry:
        return {"response": entry["response"]}
    if entry:
        said = next((answer for pattern, answer in (entry.get("when_said") or {}).items()
                     if re.search(pattern, text or "", re.I)), entry["text"])
        return {"text": said.format(phone=phone(line) if line in facts()["phone_numbers"] else "")}
    if kind == WHAT_IS_IT and portal_of(about):
        # "what is it exactly?" without an entry: what the conversation's portal is.
        return {"response": f"utter_{TABLE['portals'][portal_of(about)]['about']}"}
    asks = TABLE["kinds"][kind]
    return {"text": f"My documents don't say {asks} here. {answer_for(line)}"}


# "hmm ok so what do I do", "ugh k. and my password?": what comes before the question itself.
FILLER = re.compile(
    r"^((hmm+|hm+|ok(ay)?|k+|oh|um+|uh+|ugh+|wait( what)?|well|alright|right|fine|thanks)\b[\s,.!?]*)+", re.I)
# "and chrome?", "what about the biller?", "the password?", "what is incognito?": a short question about one detail;
# "does it show when I last filled it?": whether the thing just described shows a detail.
_ABOUT_A_DETAIL = re.compile(
    r"^(and|what about|how about|what of|also|plus)\b|^what(\W?s| is| are)\W+\w+(\W+\w+)?\W*$|^\W*\w+(\W+\w+)?\W*$"
    r"|^(does|do|will|can) (it|that|this|they|the \w+) (also )?(show|list|include|have|say|tell)\b",
    re.I)
_NOT_A_DETAIL = frozenset(
    "and what about how also plus the a an for of on in to it its is are my our your me we i you they "
    "that this there then one ones with just only too again now so ok okay hmm wait same still "
    "does do will can show list include have say tell when".split())
MAX_DETAIL_LINES = 3
_FOR_SOMEONE_ELSE = re.compile(r"\bfor\b", re.I)
# A word this close to one of the answer's words is that word mistyped ("passwrd").
TYPO_MIN_LENGTH, TYPO_SIMILARITY = 5, 0.85


def detail_from_answer(text: Text, about: Optional[Text], domain: DomainDict) -> Optional[Text]:
    """The lines of the topic's last answer that a short "and X?" asks about, if it covers X.

    "and chrome?" after the System Link requirements, "and biller?" after the roles: the answer
    given already says it, so its lines naming X are repeated rather than a guess or "I don't know".
    """
    text = FILLER.sub("", text.strip())
    if not about or not _ABOUT_A_DETAIL.search(text):
        return None
    words = {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _NOT_A_DETAIL and len(w) > 2}
    variants = [(response.get("text") or "") for response in (domain.get("responses") or {}).get(f"utter_{about}", [])
                if not response.get("channel")]
    if not words or not variants:
        return None
    said = set(re.findall(r"[a-z0-9]+", variants[0].lower()))
    words = {_as_said(w, said) for w in words}
    lines = [line.strip() for line in variants[0].split("\n") if line.strip()]
    if len(lines) == 1:
        lines = [sentence for sentence in re.split(r"(?<=[.!?])\s+", lines[0]) if sentence]
    lines = [line for line in lines if not line.endswith("?")]  # an offer ("Would you like ...?") is no detail
    stems = [re.compile(rf"\b{re.escape(_stem(w))}", re.I) for w in words]
    found = [line for line in lines if all(stem.search(line) for stem in stems)]
    if not found or len(found) > MAX_DETAIL_LINES:
        return None
    return "\n".join(found)


def _stem(word: Text) -> Text:
    """"scheduling" -> "schedul", so it finds "schedule"; "filled" -> "fill"; "browsers" -> "browser"."""
    return re.sub(r"(ing|ed)$", "", word) if len(word) > 5 else word.rstrip("s")


def _as_said(word: Text, said: set) -> Text:
    """The answer's own word for a mistyped one ("passwrd" -> "password"), else the word."""
    if word in said or len(word) < TYPO_MIN_LENGTH:
        return word
    close = difflib.get_close_matches(word, said, n=1, cutoff=TYPO_SIMILARITY)
    return close[0] if close else word


# "wait what?", "huh?", "what do you mean": the last answer was not clear, it asks about nothing new.
_CONFUSED = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|wait|hmm+|um+|uh+|sorry|so)\W+)*(?:(?:what|huh|pardon|come again)\W*)+$"
    r"|^\W*(?:(?:wait|hmm+|sorry|so)\W+)*what do you mean\W*$|^\W*i don'?t (?:get|understand)(?: (?:it|that|this))?\W*$",
    re.I)


def is_confused(text: Text) -> bool:
    return bool(_CONFUSED.search(text or ""))


def say_again(dispatcher: CollectingDispatcher, kind: Text, text: Text, about: Optional[Text],
              domain: DomainDict) -> bool:
    """"wait what?" after an answer: that answer again (not what the portal is, not "please rephrase").

    So is "so it's gone?" (the user checks what they understood) without a table entry: the answer
    says what the documents say, where a yes or no of ours could be a guess.
    """
    confirm = kind == CONFIRM and kind not in (TABLE["answers"].get(about) or {})
    if not (about and (confirm or is_confused(text)) and has_response(domain, about)):
        return False
    say(dispatcher, "followup_confirm_again" if confirm else "followup_say_again")
    dispatcher.utter_message(response=f"utter_{about}")
    return True


def followup_reply(kind: Text, about: Optional[Text], text: Text, domain: DomainDict) -> Dict[str, Any]:
    """The table's answer; where it has none, the last answer's lines on the detail asked, else "don't say".

    A vague "how" reading ("ok. what about scheduling?") names a detail: the last answer's lines on it come first.
    """
    in_table = kind in (TABLE["answers"].get(about) or {})
    detail = None if in_table and kind != VAGUE_HOW else detail_from_answer(text, about, domain)
    return on_topic({"text": detail} if detail else answer_to_followup(kind, about, text), about)


def on_topic(reply: Dict[str, Any], about: Optional[Text]) -> Dict[str, Any]:
    """A text reply marked as part of the topic's answer, so the topic stays.

    Without it, "and the password?" after the Learning Center log-in, read (unsure) as a MyChart
    password question but answered from the Learning Center answer, made MyChart the topic.
    """
    if about and "text" in reply and "response" not in reply:
        return {**reply, "utter_action": f"utter_{about}"}
    return reply


def portal_named(text: Text) -> Optional[Text]:
    """The portal the message names, leaving out one it rules out ("..., not the Learning Center")."""
    for name, portal in TABLE["portals"].items():
        for match in re.finditer(portal["words"], text, re.I):
            if not ruled_out(text, match.start()):
                return name
    return None


def portals_named(text: Text) -> List[Text]:
    """Every portal the message names, leaving out those it rules out."""
    return [name for name, portal in TABLE["portals"].items()
            if any(not ruled_out(text, match.start()) for match in re.finditer(portal["words"], text, re.I))]


def portal_of(intent: Optional[Text]) -> Optional[Text]:
    for name, portal in TABLE["portals"].items():
        if intent and portal.get("prefix") and intent.startswith(portal["prefix"]):
            return name
    return MYCHART if line_for_intent(intent) == MYCHART else None


def same_question_for(intent: Optional[Text], portal: Text) -> Text:
    """The intent asking the same as `intent`, about `portal`; else what that portal is."""
    return _same_question_in(intent, portal) or TABLE["portals"][portal]["about"]


def counterpart_on_portal(intent: Optional[Text], portal: Optional[Text]) -> Optional[Text]:
    """The question of `portal` that asks what `intent`, a question about another portal, asks
    ("the app keeps crashing" read as the CE app, in a conversation about MyChart: the MyChart app)."""
    if not portal or portal_of(intent) in (None, portal):
        return None
    return _same_question_in(intent, portal)


def _same_question_in(intent: Optional[Text], portal: Text) -> Optional[Text]:
    for group in TABLE["same_question"]:
        if intent in group:
            match = next((other for other in group if portal_of(other) == portal), None)
            if match:
                return match
    return None


# Words that say nothing besides the portal: "mychart, what else would it be", "for mychart obviously".
_PORTAL_REPLY_WORDS = frozenset(
    "for the a my one it its it's is was i said say mean meant of course obviously duh what else would could be "
    "lol about talking asking account portal app on in yes yeah no nope sorry own as patient".split())


def portal_reply(text: Text) -> Optional[Text]:
    """The portal, when the message only names one ("mychart, what else would it be", "the CE one").

    After an answer about another portal (a misreading) or "which portal?", it says which portal the
    last question was about.
    """
    portal = portal_named(text or "")
    if portal is None:
        return None
    rest = re.sub(rf"(?:{TABLE['portals'][portal]['words']})\w*", " ", text, flags=re.I)
    return portal if set(re.findall(r"[a-z']+", rest.lower())) <= _PORTAL_REPLY_WORDS else None


def reads_another_portal(text: Text, ranking: List[Dict[str, Any]], domain: DomainDict) -> Optional[Text]:
    """The close reading about the portal the message names, when the classifier (unsure) read it as another's.

    "i cant log in to system link", read at 0.5 as the MyChart password question: the words of the portal named
    outweigh the reading, unless the message also names the reading's own line ("is system link like mychart?")
    or no reading about the portal named is close.
    """
    read = next((r for r in ranking if r.get("name") != NLU_FALLBACK), {})
    portal = portal_named(text or "")
    # A question asked about each portal in its own way (`same_question:`, "locked out of my health plans
    # account", read at 0.78 as the MyChart lockout) is that portal's only when the portal is named, not
    # when a word of its line is ("locked out").
    own_portal_only = any(read.get("name") in group for group in TABLE["same_question"])
    sure = SURE_PORTAL_SPECIFIC_READING if own_portal_only else SURE_READING
    own_named = (portal_of(read.get("name")) in portals_named(text or "") if own_portal_only
                 else line_for_intent(read.get("name")) in lines_named(text))
    if portal is None or (read.get("confidence") or 0.0) >= sure or portal_of(read.get("name")) in (
            None, portal) or own_named or answers_for_portal(read.get("name"), portal):
        return None
    return (_same_question_in(read.get("name"), portal) if own_portal_only else None) or reading_for_portal(
        ranking, portal, domain, STRAYED_MIN_CONFIDENCE)


def answers_for_portal(intent: Optional[Text], portal: Optional[Text]) -> bool:
    """Whether the answer to `intent`, a question of another portal, says it for `portal` too (`also_about:`)."""
    return bool(portal) and portal in (TABLE.get("also_about") or {}).get(intent or "", [])


def reading_for_portal(ranking: List[Dict[str, Any]], portal: Text, domain: DomainDict,
                       min_confidence: float = 0.0) -> Optional[Text]:
    """The classifier's best reading of the message that is a question about `portal` and has an answer."""
    return next((r["name"] for r in ranking if portal_of(r.get("name")) == portal and has_response(domain, r["name"])
                 and (r.get("confidence") or 0.0) >= min_confidence), None)


def answer_same_question(dispatcher: CollectingDispatcher, intent: Optional[Text], portal: Text) -> None:
    """"Is that the same for the Learning Center?": the same question about `portal`.

    An answer that holds for every Avera portal (the automatic time-out) is given again, saying so.
    """
    if intent in TABLE["every_portal"]:
        say(dispatcher, "same_for_every_portal", portal=TABLE["portals"][portal]["name"])
        dispatcher.utter_message(response=f"utter_{intent}")
        return
    asked_about = portal_of(intent)
    if asked_about not in (None, portal) and not _same_question_in(intent, portal):
        # "does MyChart have a deadline too?" after the System Link deadline: my documents give that for one
        # portal only; say so (with the number of the portal named) before saying what that portal is.
        say(dispatcher, "not_said_for_portal", portal=TABLE["portals"][portal]["name"],
            asked_about=TABLE["portals"][asked_about]["name"],
            call=answer_for(line_for_intent(TABLE["portals"][portal]["about"])))
    dispatcher.utter_message(response=f"utter_{same_question_for(intent, portal)}")


class AnswerFollowup(Action):
    def name(self) -> Text:
        return "action_answer_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        kind = (tracker.latest_message.get("intent") or {}).get("name")
        about = topic_intent(tracker)
        text = tracker.latest_message.get("text") or ""
        portal = portal_named(text)
        if portal and about is None and kind not in (WHAT_IS_IT, CONFIRM):
            # "do i have to pay for a new mychart access code?" asked first: that follow-up, about the portal named.
            ranking = tracker.latest_message.get("intent_ranking") or []
            named = reading_for_portal(ranking, portal, domain, NAMED_TOPIC_MIN_CONFIDENCE)
            dispatcher.utter_message(**followup_reply(kind, named or TABLE["portals"][portal]["about"], text, domain))
        elif portal and portal != portal_of(about):
            # "is that the same for the CE portal?": the same question, about the portal named.
            answer_same_question(dispatcher, about, portal)
        elif about is None:
            self.about_what_it_names(dispatcher, tracker, kind, text, domain)
        elif not say_again(dispatcher, kind, text, about, domain):
            dispatcher.utter_message(**followup_reply(kind, about, text, domain))
        return []

    @staticmethod
    def about_what_it_names(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Text, text: Text,
                            domain: DomainDict) -> None:
        """No topic yet: "proxy access, what is that?" names it; the classifier's next reading says which."""
        named = next((r["name"] for r in tracker.latest_message.get("intent_ranking") or []
                      if (r.get("confidence") or 0) >= NAMED_TOPIC_MIN_CONFIDENCE and line_for_intent(r.get("name"))
                      and has_response(domain, r["name"])), None)
        if named is None:
            say(dispatcher, "followup_without_topic")
        elif kind == WHAT_IS_IT:
            dispatcher.utter_message(response=f"utter_{named}")
        else:
            dispatcher.utter_message(**followup_reply(kind, named, text, domain))


class AnswerCorrection(Action):
    def name(self) -> Text:
        return "action_answer_correction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        portal = portal_named(text)
        if portal is None:
            say(dispatcher, "correction_without_topic")
            return []
        about = topic_intent(tracker)
        asked = previous_user_message(tracker)
        kind = (asked.get("intent") or {}).get("name") or ""
        if about and portal == portal_of(about) and has_response(domain, about):
            # "i cant log in" -> the MyChart answer -> "mychart, what else would it be": that answer stands.
            say(dispatcher, "followup_confirm_again")
            dispatcher.utter_message(response=f"utter_{about}")
        elif about is None and kind.startswith(FOLLOWUP_PREFIX):
            # "how do i sign in?" -> "which portal?" -> "mychart": that follow-up, about the portal named; a "how"
            # the table has no answer for is the reading's own answer.
            meant = reading_for_portal(asked.get("intent_ranking") or [], portal, domain, STRAYED_MIN_CONFIDENCE)
            if meant and kind == VAGUE_HOW and kind not in (TABLE["answers"].get(meant) or {}):
                dispatcher.utter_message(response=f"utter_{meant}")
            else:
                dispatcher.utter_message(**followup_reply(kind, meant or TABLE["portals"][portal]["about"],
                                                          asked.get("text") or "", domain))
        elif _same_question_in(about, portal):
            # "i cant get into my account", misread as the network password -> "mychart!": MyChart's log-in answer.
            dispatcher.utter_message(response=f"utter_{_same_question_in(about, portal)}")
        else:
            answer_for_portal_meant(dispatcher, tracker, portal)
        return []


def answer_for_portal_meant(dispatcher: CollectingDispatcher, tracker: Tracker, portal: Text) -> None:
    """The last question again, for the portal named: its number after a number request, else its answer."""
    if previous_user_intent(tracker) in NUMBER_REQUESTS:
        dispatcher.utter_message(text=answer_for(line_from_words(tracker.latest_message.get("text") or "")))
    else:
        answer_same_question(dispatcher, topic_intent(tracker), portal)


FOLLOWUP_PREFIX = "followup_"
HOURS = "ask_support_hours"
CORRECTION = "correction"
OFFER_HANDOFF = "action_offer_handoff"
NLU_FALLBACK = "nlu_fallback"
# The lowest score at which a reading that fits the conversation is taken.
UNCLEAR_MIN_CONFIDENCE, STRAYED_MIN_CONFIDENCE = 0.1, 0.05
# A reading this sure stands even when the message names another portal ("can I share my System Link password?").
SURE_READING = 0.7
# ... and a reading of a question each portal answers in its own way (`same_question:`) needs to be surer still.
SURE_PORTAL_SPECIFIC_READING = 0.9


def has_response(domain: DomainDict, intent: Text) -> bool:
    return f"utter_{intent}" in (domain.get("responses") or {})


class AnswerTwoQuestions(Action):
    def name(self) -> Text:
        return "action_answer_two_questions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        answered = topic_intent(tracker)
        replied = False
        given: List[Dict[str, Any]] = []  # "what is it and what's it good for": one answer, not the same twice
        for intent in tracker.latest_message.get("questions") or []:
            if intent.startswith(FOLLOWUP_PREFIX) and answered:
                reply = answer_to_followup(intent, answered)
            elif intent == "ask_phone_number":
                # "the number for mychart and also the one for the health plan portal": every line named.
                named = lines_named(text) or [line_for_intent(answered)]
                reply = {"text": "\n".join(answer_for(line) for line in named)}
            elif has_response(domain, intent):
                reply = {"response": f"utter_{intent}"}
                answered = intent
            else:
                reply = None
            if reply is not None:
                if reply not in given:
                    given.append(reply)
                    dispatcher.utter_message(**reply)
                replied = True
                continue
            if intent in OFFERS:
                # A task's own offer (offer_<intent> in messages.yml) also says how to do it without the chat.
                key = f"offer_{intent}" if f"offer_{intent}" in MESSAGES else "offer_second_question"
                say(dispatcher, key, buttons=[{"title": OFFERS[intent], "payload": f"/{intent}"}])
                answered = intent
            else:
                continue
            replied = True
        if not replied:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []


# Tasks that a second question can start, with the button that offers them.
OFFERS = {
    "request_access_code": "Send me a new access code",
    "request_password_reset": "Reset my password",
    "request_username_reminder": "Remind me of my username",
    "check_record_access": "Check whether I can see a record",
    "request_site": "Start a site request",
    "check_site_request_status": "Check my site request",
}


class AnswerInContext(Action):
    """A message the model could not place: the reading that fits the conversation, if one is close."""

    def name(self) -> Text:
        return "action_answer_in_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        about = topic_intent(tracker)
        text = tracker.latest_message.get("text") or ""
        portal_meant = portal_named(text)
        portal = portal_meant or portal_of(about)  # the readings about a portal the message names come first
        ranking = tracker.latest_message.get("intent_ranking") or []
        unknown_words = ranking and ranking[0].get("name") == NLU_FALLBACK and not ranking[0].get("confidence")
        # The last answer already says what a short "and X?" asks: "and my password?" after the AveraChart move
        # gets those lines before any other reading of the words alone; "and for a provider?" asks the same
        # question for someone else, so a reading on the topic comes first and the lines are the last resort.
        detail = detail_from_answer(text, about, domain)
        detail_first = detail if not _FOR_SOMEONE_ELSE.search(text) else None
        if (portal_meant or line_from_words(text)) and previous_user_intent(tracker) in NUMBER_REQUESTS:
            # "and for MyChart?", "the CE one?", "which one is for my work computer?" right after a number:
            # that line's number.
            answer_for_portal_meant(dispatcher, tracker, portal_meant)
            return []
        meant = reads_another_portal(text, ranking, domain)
        if meant and meant == TABLE["portals"][portal_meant]["about"]:
            # "does mychart have a deadline too?", read as the System Link deadline: that question, for MyChart.
            answer_same_question(dispatcher, ranking[0].get("name"), portal_meant)
            return []
        if meant:
            # "i cant log in to system link", read as a MyChart question: the reading about the portal named.
            dispatcher.utter_message(response=f"utter_{meant}")
            return []
        meant = reading_for_portal(ranking, portal_meant, domain, UNCLEAR_MIN_CONFIDENCE) if portal_meant else None
        if about is None and meant and not unknown_words:
            # No topic yet, an unclear message that names its portal: the close reading about that portal.
            dispatcher.utter_message(response=f"utter_{meant}")
            return []
        if about is None or unknown_words or detail_first:
            return self.detail(dispatcher, detail, about) or self.not_understood(dispatcher, tracker)
        if say_again(dispatcher, "", text, about, domain):
            return []
        not_understood = (tracker.latest_message.get("intent") or {}).get("name") == NLU_FALLBACK
        # An unclear message needs a closer reading than a clear one that strayed from the topic.
        min_confidence = UNCLEAR_MIN_CONFIDENCE if not_understood else STRAYED_MIN_CONFIDENCE
        for ranked in ranking:
            intent, confidence = ranked.get("name") or "", ranked.get("confidence") or 0.0
            if confidence < min_confidence:
                break
            if intent.startswith(FOLLOWUP_PREFIX):
                if not say_again(dispatcher, intent, text, about, domain):
                    dispatcher.utter_message(**followup_reply(intent, about, text, domain))
                return []
            if portal and portal_of(intent) == portal and has_response(domain, intent):
                dispatcher.utter_message(response=f"utter_{intent}")
                return []
            counterpart = counterpart_on_portal(intent, portal)
            if counterpart and has_response(domain, counterpart):
                # Read as the CE app in a conversation about MyChart: the same question about MyChart.
                dispatcher.utter_message(response=f"utter_{counterpart}")
                return []
            if intent == HOURS and previous_user_intent(tracker) in NUMBER_REQUESTS:
                # An unsure "open now?" right after a number was asked for: the support hours.
                dispatcher.utter_message(response=f"utter_{HOURS}")
                return []
            if intent == CORRECTION and portal_meant:
                # An unsure "and for the CE portal?": the last question again, for the portal named.
                answer_for_portal_meant(dispatcher, tracker, portal_meant)
                return []
        if detail:
            return self.detail(dispatcher, detail, about)
        if not not_understood:
            # Sent here by bot.context_policy: a follow-up that no reading on the topic fits.
            say(dispatcher, "followup_not_sure", call=answer_for(line_for_intent(about)))
            return []
        return self.not_understood(dispatcher, tracker, about)

    @staticmethod
    def detail(dispatcher: CollectingDispatcher, detail: Optional[Text],
               about: Optional[Text] = None) -> Optional[List[EventType]]:
        if not detail:
            return None
        dispatcher.utter_message(**on_topic({"text": detail}, about))
        return []

    @staticmethod
    def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker,
                       about: Optional[Text] = None) -> List[EventType]:
        """Ask to rephrase; the second time in a row, offer the topics and a person (actions/handoff.py).

        In a conversation about a portal, the portal's number follows ("i did the evaluation already"
        after the CE certificates: whatever it meant, the CE team can help).
        """
        events = list(tracker.events)
        users = [i for i, e in enumerate(events) if e.get("event") == "user"]
        since_previous = events[users[-2] + 1:] if len(users) > 1 else events
        if any((e.get("metadata") or {}).get("utter_action") == "utter_ask_rephrase" for e in since_previous
               if e.get("event") == "bot"):
            return [FollowupAction(OFFER_HANDOFF)]
        dispatcher.utter_message(response="utter_ask_rephrase")
        if line_for_intent(about):
            dispatcher.utter_message(text=answer_for(line_for_intent(about)))
        return []
