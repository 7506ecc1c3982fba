"""Give the support number that fits: from the words first, then the context.

"Which number do I call?" means the CE team after a CE question and the
MyChart line after a lockout. The topic of the conversation comes from
actions/conversation_topic.py: intent names start with their topic, so
trainers get the right number for a new intent just by naming it well.
"""
import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation_topic import SYSTEM_LINK, topic_line
from bot.facts import facts

# What the user says -> which line. Checked in order; the first match wins.
KEYWORDS = [
    ("employee_it", re.compile(r"\b(network password|it help ?desk|workstation|epic|employee|work for avera|windows login)\b", re.I)),
    ("learning_center_ce", re.compile(r"\b(learning center|ce\b|cme|cne|cloud ?cme|continuing ed\w*|transcripts?|credits?|certificates?)", re.I)),
    ("health_plans", re.compile(r"\b(health ?plans?|insurance|claims?|deductible|member id|id card|in-network)\b", re.I)),
    (SYSTEM_LINK, re.compile(r"\b(system ?link|site request|site admin\w*)\b", re.I)),
    ("mychart", re.compile(r"\b(my ?chart|avera ?chart|access code|activation code|patient portal|locked out|lockout)\b", re.I)),
]


def line_from_words(text: str) -> Optional[str]:
    for line, pattern in KEYWORDS:
        if pattern.search(text):
            return line
    return None


def line_from_context(tracker: Tracker) -> Optional[str]:
    """The line of the conversation's topic (the last topic answer or question)."""
    return topic_line(tracker)


def describe(line: str) -> str:
    number = facts()["phone_numbers"][line]
    hours = f", {number['hours']}" if number.get("hours") else ""
    return f"{number['label']}: {number['number']}{hours} ({number['covers']})."


def answer_for(line: Optional[str]) -> str:
    if line == SYSTEM_LINK:
        return (
            "The documents I know list no phone number for Avera System Link. Your facility's site "
            "administrator is your first contact: only site administrators contact Avera with technical "
            "and access questions."
        )
    if line is None:
        lines = "\n".join(f"- {describe(key)}" for key in facts()["phone_numbers"])
        return f"Here are the Avera support numbers:\n{lines}"
    return f"Call {describe(line)}"


class GiveSupportNumber(Action):
    def name(self) -> Text:
        return "action_give_support_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        line = line_from_words(text) or line_from_context(tracker)
        dispatcher.utter_message(text=answer_for(line))
        return []
