"""What the conversation is about: the last answer given, read from the tracker.

One mechanism for every action that leans on context ("which number do I
call?", "how long does that take?", "no, I meant the CE portal"): the most
recent topic intent among the bot's answers (`utter_<intent>`, also when an
action sent it) and the user's earlier intents. Intent names start with their
topic, so a new intent gets its context, and its support line, by its name.
"""
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker

SYSTEM_LINK = "system_link"
# Intent name prefix -> which support line, for the topic of the conversation.
INTENT_PREFIXES = [
    ("employee_it", ("employee_network_password",)),
    ("learning_center_ce", ("learning_center_", "ce_")),
    ("health_plans", ("health_plans_",)),
    (SYSTEM_LINK, ("system_link_", "request_site", "check_site_request_status")),
    ("mychart", ("mychart_", "login_", "lockout_", "teen_", "proxy_", "portal_", "security_", "check_record_access",
                 "request_access_code", "request_password_reset", "request_username_reminder")),
]
CONTEXT_EVENTS = 40
# A question about a support line that names it ("what's the CE number?") makes that line the topic,
# as if its portal's "what is it" question had been asked.
LINE_TOPICS = {"mychart": "mychart_about", "learning_center_ce": "learning_center_about",
               "health_plans": "health_plans_about", "employee_it": "employee_network_password",
               SYSTEM_LINK: "system_link_about"}
# What the user says -> which line. Checked in order; the first match wins.
KEYWORDS = [
    ("employee_it", re.compile(r"\b(network (password|login|log ?in|account)|it help ?desk|workstation|work (computer|laptop|pc)|epic|employee|work for avera|windows login)\b", re.I)),
    ("learning_center_ce", re.compile(r"\b(learning center|ce\b|cme|cne|cloud ?cme|continuing ed\w*|transcripts?|credits?|certificates?|mandatory training|training modules?)", re.I)),
    ("health_plans", re.compile(r"\b(health ?plans?|insurance|claims?|deductible|member id|id card|in-network)\b", re.I)),
    (SYSTEM_LINK, re.compile(r"\b(system ?link|site request|site admin\w*|site agreement|request (a )?new (site|account)|"
                             r"create user accounts?)\b", re.I)),
    ("mychart", re.compile(r"\b(my ?chart|avera ?chart|access code|activation code|patient portal|locked out|lockout|"
                           r"proxy|test results?|lab results?|prescriptions?|refills?|appointments?|appts?)\b", re.I)),
]


# "the CE transcript, not the learning center", "my health plans login not mychart": named only to be ruled out.
_RULED_OUT = re.compile(r"\b(not|isn'?t|wasn'?t)( for| about| in| on)?( the| my)?\s*$", re.I)


def ruled_out(text: str, start: int) -> bool:
    """Whether the name starting at `start` in `text` is only named to be ruled out."""
    return bool(_RULED_OUT.search(text[:start]))


# Words of MyChart's line that say what happened, not where: "locked out of system link" is about System Link.
_SAYS_WHAT_NOT_WHERE = re.compile(r"^(locked out|lockout)$", re.I)


def lines_named(text: str) -> List[str]:
    """The lines the words name, leaving out one named only to be ruled out ("..., not mychart"), and MyChart's
    when only a word saying what happened ("locked out") names it beside another line."""
    named = {line: [match.group(0) for match in pattern.finditer(text or "") if not ruled_out(text, match.start())]
             for line, pattern in KEYWORDS}
    lines = [line for line, _ in KEYWORDS if named[line]]
    if len(lines) > 1 and "mychart" in lines and all(_SAYS_WHAT_NOT_WHERE.match(word) for word in named["mychart"]):
        lines.remove("mychart")
    return lines


def line_from_words(text: str) -> Optional[str]:
    return next(iter(lines_named(text)), None)


def line_for_intent(intent: Optional[Text]) -> Optional[Text]:
    """The support line of a topic intent, None for general intents (greet, thank, follow-ups)."""
    for line, prefixes in INTENT_PREFIXES:
        if intent and intent.startswith(prefixes):
            return line
    return None


def _intents_newest_first(tracker: Tracker) -> List[Text]:
    """Answered and asked intents before the latest message, newest first."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    names: List[Text] = []
    for event in reversed(events[max(0, last_user - CONTEXT_EVENTS):last_user]):
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            if not line_for_intent(intent):
                intent = LINE_TOPICS.get(line_from_words(event.get("text") or ""), intent)
            names.append(intent)
        elif kind == "action" and (event.get("name") or "").startswith("utter_"):
            names.append(event["name"][len("utter_"):])
        elif kind == "bot":
            utter = (event.get("metadata") or {}).get("utter_action") or ""
            names.append(utter[len("utter_"):] if utter.startswith("utter_") else "")
    return names


def topic_intent(tracker: Tracker) -> Optional[Text]:
    """The intent of the last topic answer or question before the latest message."""
    return next((name for name in _intents_newest_first(tracker) if line_for_intent(name)), None)


def topic_line(tracker: Tracker) -> Optional[Text]:
    return line_for_intent(topic_intent(tracker))


def previous_user_message(tracker: Tracker) -> Dict[str, Any]:
    """The parse of the user's message before the latest one (text, intent, ranking), or {}."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    return {"text": users[-2].get("text"), **(users[-2].get("parse_data") or {})} if len(users) > 1 else {}


def previous_user_intent(tracker: Tracker) -> Optional[Text]:
    """The intent of the user's message before the latest one."""
    return (previous_user_message(tracker).get("intent") or {}).get("name")
