"""What the actions say, loaded once from messages.yml and filled in.

These messages are not domain responses: Rasa's validator requires every
domain response to appear in a rule or story, and a form's questions and
results are spoken by actions, not by rules.
"""
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk.executor import CollectingDispatcher

MESSAGES: Dict[str, Dict[str, Any]] = yaml.safe_load(
    Path(__file__).with_name("messages.yml").read_text(encoding="utf-8")
)


class _Blanks(dict):
    """Placeholders without a value read as empty rather than crash a conversation."""

    def __missing__(self, key: str) -> str:
        return ""


def render(key: str, **values: Any) -> str:
    filled = _Blanks({name: "" if value is None else value for name, value in values.items()})
    return MESSAGES[key]["text"].format_map(filled)


def say(dispatcher: CollectingDispatcher, key: str, buttons: Optional[List[Dict[str, str]]] = None,
        **values: Any) -> None:
    dispatcher.utter_message(text=render(key, **values), buttons=buttons or MESSAGES[key].get("buttons") or [])


def question_key(form: str, slot: str) -> str:
    """The question for a slot: ask_<form>_<slot> if there is one, else ask_<slot>."""
    specific = f"ask_{form}_{slot}"
    return specific if specific in MESSAGES else f"ask_{slot}"
