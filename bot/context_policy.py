"""Keep a short follow-up on the conversation's topic.

"What if we miss it?" right after the System Link deadline is about System
Link, even when the classifier, reading the words alone, is surer of a CE
answer ("missed" a CE activity) or of "what can you do?". Rules cannot see
that: they follow the intent. This policy, ranked above the rules, sends such
a message to action_answer_in_context, which answers the reading that fits
the topic, or says it isn't sure and gives the topic's number; never an
answer about another portal. It acts only on a short message that leans on
the previous one ("it", "that", "and ...", "what about ...") or is short and
unsure, and names no portal, after a topic answer, outside a form; a clear
emergency is never touched. A message that asks which number to call and
names the lines ("my network login is messed up and she can't get into
MyChart: which line do we call?") goes to the support number action, however
the classifier read it.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from actions.conversation_topic import LINE_TOPICS, line_for_intent, line_from_words, lines_named
from actions.followup_table import TABLE
from actions.followups import (FILLER, NUMBER_REQUESTS, answers_for_portal, counterpart_on_portal, detail_from_answer,
                               portal_named, portal_of, portal_reply, reads_another_portal)
from actions.record_access import age_group, clear_yes_no, names_only_a_person, parse_relationship

ANSWER_IN_CONTEXT = "action_answer_in_context"
_LEANS_ON_BEFORE = re.compile(
    r"\b(it|its|it's|that|this|they|them|those|these|there|one|ones)\b|^(and|but|so|also|what about|how about|what if)\b",
    re.I)
MAX_WORDS = 9
# "and my password?" names a detail; "what about my password, I forgot it" asks a question of its own.
MAX_DETAIL_WORDS = 5
# "ugh ok. and my password?": read as "ok" for its filler, but what follows the filler is a question.
_QUESTION = re.compile(r"^(and|but|also|plus|what|how|so)\b|\?\s*$", re.I)
# Intents that are the conversation itself, not a question about a topic.
# "that's not what I asked" leans on the last answer too, but it is about the answer, not
# its topic: it goes to the hand-off offer (data/rules/handoff.yml).
CONVERSATIONAL = {"greet", "goodbye", "thank", "affirm", "acknowledge", "deny", "stop", "share_sensitive_data", "nlu_fallback",
                  "two_questions", "correction", "ask_why_needed", "request_human", "frustration", "ask_phone_number",
                  "all_support_numbers", "ask_support_hours", "bot_challenge"}
SURE_EMERGENCY = 0.6
# "link not work" after "Would you like a reset link?", read (unsure) as a no: it tells a problem, it
# does not decline. A yes or no reading this unsure counts only when the words are a clear yes or no.
SURE_YES_NO = 0.5
SURE_WHY_NEEDED = 0.5
# A short message the classifier is unsure of stays on the topic even without "it" or "and";
# up to MAX_WORDS when it is less sure still ("should i just make a new account" after the CE
# duplicate-account answer, read at 0.47 as MyChart password tips): (at most words, under confidence).
UNSURE_READINGS = ((6, 0.7), (MAX_WORDS, 0.5))
SURE_NEW_QUESTION = 0.85
NEVER_ON_UNSURE = {"medical_emergency", "medical_advice", "out_of_scope", "share_sensitive_data"}
# Intents that start a guided task: the user asks for it, whatever came before.
STARTS_A_TASK = {"check_record_access", "request_access_code", "request_password_reset", "request_username_reminder",
                 "request_site", "check_site_request_status"}


def previous_topic(tracker: DialogueStateTracker) -> Optional[Text]:
    """The topic intent of the last answer before the latest message (as actions/conversation_topic.py)."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=len(events))
    for event in reversed(events[:last_user]):
        name = ""
        if isinstance(event, UserUttered):
            name = event.intent_name or ""
            if not line_for_intent(name):
                # "averachart tech support phone pls": the line the words name is the topic (as in
                # actions/conversation_topic.py), so "open now?" after it stays on that line.
                name = LINE_TOPICS.get(line_from_words(event.text or ""), name)
        elif isinstance(event, ActionExecuted) and (event.action_name or "").startswith("utter_"):
            name = event.action_name[len("utter_"):]
        elif isinstance(event, BotUttered):
            name = ((event.metadata or {}).get("utter_action") or "")[len("utter_"):]
        if line_for_intent(name):
            return name
    return None


def _unsure_and_short(text: Text, intent: Text, confidence: float) -> bool:
    """"what email do i use?" after the CE sign-in: no leaning word, but short, unsure and naming nothing.

    An emergency, medical advice and "not our business" are never read this way, and a message naming a
    portal's own thing ("where's my id card?", "my transcript") is a question of its own.
    """
    words = len(text.split())
    return (any(words <= most and confidence < under for most, under in UNSURE_READINGS)
            and intent not in NEVER_ON_UNSURE
            and line_from_words(text) is None)


def strays_from_topic(text: Text, intent: Text, confidence: float, topic: Callable[[], Optional[Text]],
                      answered: Callable[[Text, Text], bool] = lambda text, about: False) -> bool:
    """True when a short follow-up would be answered about another portal or as a general question,
    or as another question of the same portal when the last answer already says what it asks
    (`answered`: "and my password?" after the AveraChart move, read as the password reset question).

    `topic` is only worked out (from the conversation) for a short message that leans on the last one.
    """
    stripped = FILLER.sub("", text or "")
    acknowledged_then_asked = intent == "acknowledge" and stripped != (text or "") and _QUESTION.search(stripped)
    text = stripped
    if not text or len(text.split()) > MAX_WORDS:
        return False
    if not (_LEANS_ON_BEFORE.search(text) or _unsure_and_short(text, intent, confidence)):
        # "the app keeps crashing" after the MyChart app, read as the CE app: the words name no portal and the
        # reading asks what a question of the topic's own portal asks (`same_question:`), so it is that one.
        # A sure reading is a new question ("how do i reset my password" after the CE transcript).
        return (confidence < SURE_NEW_QUESTION and intent not in NEVER_ON_UNSURE and not portal_named(text)
                and line_from_words(text) is None and counterpart_on_portal(intent, portal_of(topic())) is not None)
    unclear_yes_no = intent in ("affirm", "deny") and confidence < SURE_YES_NO and clear_yes_no(text) is None
    # Outside a form nobody asked for details: an unsure "why do you need that?" reading ("does it matter how big
    # my screen is") is a follow-up about the topic.
    unsure_why_needed = intent == "ask_why_needed" and confidence < SURE_WHY_NEEDED
    if portal_named(text) or (intent in CONVERSATIONAL and not (acknowledged_then_asked or unclear_yes_no
                                                                  or unsure_why_needed)) \
            or intent.startswith("followup_"):
        return False
    if intent == "medical_emergency" and confidence >= SURE_EMERGENCY:
        return False
    if intent in STARTS_A_TASK:
        return False
    about = topic()
    if about is None:
        return False
    if line_for_intent(intent) is None:
        return True  # a general answer ("what can you do?", medical advice) to a question about the topic
    if line_from_words(text) == line_for_intent(intent) != line_for_intent(about):
        return False  # "and how do I get proxy access?" after System Link: names its own portal's thing
    if answers_for_portal(intent, portal_of(about)):
        return False  # "can we all share one login?" after System Link: the answer says it for System Link too
    return portal_of(intent) != portal_of(about) or (
        intent != about and len(text.split()) <= MAX_DETAIL_WORDS and answered(text, about))


def previous_user_intent(tracker: DialogueStateTracker) -> Optional[Text]:
    users = [e for e in tracker.events if isinstance(e, UserUttered)]
    return users[-2].intent_name if len(users) > 1 else None


# "ok, and what's the System Link deadline?" after a number: a question of its own, read surely as one.
SURE_OWN_QUESTION = 0.9


def asks_number_for_portal(text: Text, previous_intent: Optional[Text], intent: Text = "",
                           confidence: float = 0.0) -> bool:
    """"And for my own MyChart?", "which one is for my work computer?" right after a number question asks
    the number of the portal or line it names (as action_answer_in_context reads it).

    The classifier, reading the words alone, may take it for another question ("own" account, "computer").
    A question it is sure of that names its own thing ("and what's the System Link deadline?") keeps its
    answer; a portal's "what is it" reading ("what about for my mychart") is only the portal named.
    """
    text = FILLER.sub("", text or "")
    if confidence >= SURE_OWN_QUESTION and line_for_intent(intent) is not None and not intent.endswith("_about") \
            and not intent.startswith("followup_") and intent not in NUMBER_REQUESTS | CONVERSATIONAL:
        return False
    return (previous_intent in NUMBER_REQUESTS and 0 < len(text.split()) <= MAX_WORDS
            and bool(_LEANS_ON_BEFORE.search(text)) and (portal_named(text) or line_from_words(text)) is not None)


# "which line do i call", "what is telephone for help with mychart", "who should each of us call": a number asked for.
# Not "what number do I text" (CE credit) nor "my phone number changed" (a contact, not a line to call).
_ASKS_WHICH_NUMBER = re.compile(
    r"\bwhich (line|number|phone( number)?|one)s? (do|should|can|would|to)\b.*\b(call|dial|phone|ring)\b"
    r"|\bwhich (line|number|phone number)s?\b(?!.*\btext)"
    r"|\bwhat('?s| is)( the)? (tele)?phone( number| #)? (for|to)\b|\bwhat('?s| is)( the)? telephone\b"
    r"|\bwho (do|should|can) (i|we|each of us|they|she|he) (call|phone|contact)\b", re.I)
GIVE_NUMBER = "action_give_support_number"
# Their rules give the numbers asked for (or a person); the IT help desk's answer gives its own line only.
ANSWERED_WITH_NUMBERS = NUMBER_REQUESTS - {"employee_network_password"}
ANSWER_CORRECTION = "action_answer_correction"


def names_the_portal_meant(text: Text, intent: Text, topic: Callable[[], Optional[Text]],
                           asked_before: Optional[Text]) -> bool:
    """"mychart, what else would it be" after an answer about another portal, or after "which portal?".

    Only the portal is named: the last question was about it (the classifier reads the portal's "what is
    it"). After an answer about that portal, so read, it confirms that answer; a yes or no is left to the rules.
    """
    portal = portal_reply(text)
    if portal is None or asked_before is None:
        return False
    return portal_of(topic()) != portal or intent == TABLE["portals"][portal]["about"]


def asks_number_naming_lines(text: Text, intent: Text) -> bool:
    """"I'm a nurse with MyChart too and my network login is messed up, which line do I call?": a number asked
    for, with the lines named, that the classifier read as another question (or not at all).

    Only when the reading cannot be the answer: a general one, a portal's "what is it" answer, or one line of
    two named. "Who do I call to move my appointment?" is left to its answer (the clinic), as are the number
    questions themselves, tasks and emergencies.
    """
    named = lines_named(text or "")
    if intent in ANSWERED_WITH_NUMBERS | STARTS_A_TASK | {"medical_emergency", "share_sensitive_data"} \
            or not named or not _ASKS_WHICH_NUMBER.search(text or ""):
        return False
    return line_for_intent(intent) is None or intent.endswith("_about") or len(named) > 1


def asks_number_on_topic(text: Text, intent: Text, topic: Callable[[], Optional[Text]]) -> bool:
    """"ok who do i call if the app won't let me in?" after the MyChart app, read as the CE app: the number of the
    conversation's topic. Only when the message names no portal or line and the reading is another portal's."""
    text = FILLER.sub("", text or "")
    if not _ASKS_WHICH_NUMBER.search(text) or portal_named(text) or lines_named(text) \
            or intent in ANSWERED_WITH_NUMBERS | STARTS_A_TASK | {"medical_emergency", "share_sensitive_data"}:
        return False
    about = topic()
    return about is not None and portal_of(intent) not in (None, portal_of(about))


RECORD_ACCESS_CHECK, CHECK_RESULT = "record_access_form", "action_explain_record_access"
# "my husband has chest pain" right after a verdict names a person, but asks for no record.
NOT_ABOUT_A_RECORD = {"medical_emergency", "medical_advice", "share_sensitive_data"}
WHY = "followup_why"


def just_checked(tracker: DialogueStateTracker) -> bool:
    """Whether the bot's last action before the latest message gave the record-access check's verdict."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=len(events))
    actions = [e.action_name for e in events[:last_user]
               if isinstance(e, ActionExecuted) and e.action_name != ACTION_LISTEN_NAME]
    return bool(actions) and actions[-1] == CHECK_RESULT


def asks_for_another_person(text: Text, intent: Text) -> bool:
    """"What about my husband?", "and the older one, she's 16" right after a verdict: the check again, for them.

    Read by the classifier as a follow-up ("what about ... ?") or a general question, it would get the
    verdict's follow-up answer about the person just checked. A question of its own ("can my 15 year old
    have her own account?") and the conversation itself ("thanks, my son will be glad") keep their answers.
    """
    text = FILLER.sub("", text or "")
    if not text or len(text.split()) > MAX_WORDS:
        return False
    if names_only_a_person(text):
        # "and my wife's?" read (unsure) as an emergency, "no i meant my stepdaughter" as a no: only a person.
        return bool(parse_relationship(text, asked=False) or age_group(text))
    if intent in CONVERSATIONAL | NOT_ABOUT_A_RECORD:
        return False
    if intent == WHY:
        return False  # "why? i'm his mother" asks about the verdict given
    if not (intent.startswith("followup_") or line_for_intent(intent) is None):
        return False
    return bool(parse_relationship(text, asked=False) or age_group(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class TopicFollowupPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: it reads the conversation

    def predict_action_probabilities(
        self, tracker: DialogueStateTracker, domain: Domain, rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.active_loop_name:
            return self._prediction(probabilities)
        if tracker.latest_action_name in (ANSWER_IN_CONTEXT, GIVE_NUMBER, ANSWER_CORRECTION):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        elif tracker.latest_action_name == ACTION_LISTEN_NAME:
            message = tracker.latest_message
            intent = (message.intent or {}).get("name") or ""
            confidence = (message.intent or {}).get("confidence") or 0.0
            responses = {"responses": domain.responses}
            ranking = (message.parse_data or {}).get("intent_ranking") or []
            if asks_number_naming_lines(message.text or "", intent) or asks_number_on_topic(
                    message.text or "", intent, lambda: previous_topic(tracker)):
                probabilities[domain.index_for_action(GIVE_NUMBER)] = 1.0
            elif asks_for_another_person(message.text or "", intent) and just_checked(tracker):
                probabilities[domain.index_for_action(RECORD_ACCESS_CHECK)] = 1.0
            elif names_the_portal_meant(message.text or "", intent, lambda: previous_topic(tracker),
                                        previous_user_intent(tracker)):
                probabilities[domain.index_for_action(ANSWER_CORRECTION)] = 1.0
            elif reads_another_portal(message.text or "", ranking, responses):
                probabilities[domain.index_for_action(ANSWER_IN_CONTEXT)] = 1.0
            elif strays_from_topic(message.text or "", intent, confidence, lambda: previous_topic(tracker),
                                 lambda text, about: detail_from_answer(text, about, responses) is not None) \
                    or asks_number_for_portal(message.text or "", previous_user_intent(tracker), intent, confidence):
                probabilities[domain.index_for_action(ANSWER_IN_CONTEXT)] = 1.0
        return self._prediction(probabilities)
