"""Give the support number that fits: from the words first, then the context.

"Which number do I call?" means the CE team after a CE question and the
MyChart line after a lockout. The topic of the conversation comes from
actions/conversation_topic.py: intent names start with their topic, so
trainers get the right number for a new intent just by naming it well.
Where the person to call is not a support line ("can I just call?" after
changing an appointment: the clinic), `calls:` in actions/followups.yml says so.
"""
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation_topic import (SYSTEM_LINK, line_for_intent, line_from_words, lines_named, topic_intent,
                                       topic_line)
from actions.followup_table import TABLE
from bot.facts import facts, phone

ALL_NUMBERS = "all_support_numbers"


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
        if (tracker.latest_message.get("intent") or {}).get("name") == ALL_NUMBERS:
            # "which number is for insurance stuff?" names one line: that one; otherwise the whole list.
            named = lines_named(text)
            if len(named) == 1:
                dispatcher.utter_message(text=answer_for(named[0]))
            else:
                dispatcher.utter_message(response=f"utter_{ALL_NUMBERS}")
            return []
        about = topic_intent(tracker)
        call = (TABLE.get("calls") or {}).get(about)
        if call and line_from_words(text) in (None, line_for_intent(about)):
            # "who do I call to move my appointment?": the clinic, even though "appointment" names MyChart.
            dispatcher.utter_message(text=call.format(phone=phone(line_for_intent(about))))
            return []
        named = lines_named(text)
        if len(named) > 1:
            # "she can't get into MyChart and my network password expired: which line does each of us call?"
            dispatcher.utter_message(text="\n".join(answer_for(line) for line in named))
            return []
        line = line_from_words(text) or line_from_context(tracker)
        dispatcher.utter_message(text=answer_for(line))
        return []
