"""Every response (and follow-up answer) agrees with bot/facts.yml, the one place recurring facts live.

A trainer who writes "call 855-667-9705" or "after three attempts" into a
response breaks this test, not a member's evening.
"""
import re
from pathlib import Path

import pytest
import yaml

from actions.conversation_topic import INTENT_PREFIXES, SYSTEM_LINK
from actions.followups import answer_to_followup
from bot.facts import facts

ROOT = Path(__file__).resolve().parents[2]
FACTS = facts()
NUMBERS = {line: entry["number"] for line, entry in FACTS["phone_numbers"].items()}
PHONE = re.compile(r"\b\d{3}-\d{3}-\d{4}\b")
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "thirty": 30, "fifteen": 15, "twenty": 20}


def responses():
    """Every text the bot can say: domain responses and the actions' messages."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for name, variants in domain["responses"].items():
        for variant in variants:
            parts = [variant.get("text") or ""] + [b["title"] for b in variant.get("buttons") or []]
            yield name, "\n".join(parts)
    messages = yaml.safe_load((ROOT / "actions" / "messages.yml").read_text())
    for name, message in messages.items():
        parts = [message["text"]] + [b["title"] for b in message.get("buttons") or []]
        yield f"message:{name}", "\n".join(parts)
    followups = yaml.safe_load((ROOT / "actions" / "followups.yml").read_text())
    for about, kinds in followups["answers"].items():
        for kind, answer in kinds.items():
            if "text" in answer:
                yield f"followup:{about}:{kind}", answer_to_followup(kind, about)["text"]
            for pattern, said in (answer.get("when_said") or {}).items():
                yield f"followup:{about}:{kind}:{pattern}", said


RESPONSES = list(responses())
LOGIN, CE, TEENS, SYSTEM_LINK_FACTS = FACTS["login"], FACTS["ce_portal"], FACTS["teen_access"], FACTS["system_link"]
COUNTED = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty)"


def as_number(token: str) -> int:
    return int(token) if token.isdigit() else WORD_NUMBERS[token.lower()]


# (fact, pattern, what a match says, what facts.yml says)
NUMERIC_FACTS = [
    ("failed attempts before lockout",
     COUNTED + r"(?:th)? (?:unsuccessful |failed |wrong |incorrect )?(?:login |log-in |sign-in )?(?:attempts|tries)",
     lambda m: as_number(m.group(1)), LOGIN["failed_attempts_before_lockout"]),
    ("reset link minutes", COUNTED + r"[ -]?min(ute)?s?\b", lambda m: as_number(m.group(1)),
     LOGIN["reset_link_valid_minutes"]),
    ("CE text code digits", r"(\d+)[ -]?digit (?:activity |attendance |ce )?code", lambda m: int(m.group(1)),
     CE["text_code_digits"]),
    ("CE text within hours", r"(\d+) hours", lambda m: int(m.group(1)), CE["text_within_hours"]),
    ("CE certificate days", r"(\d+) days", lambda m: int(m.group(1)), CE["certificate_days"]),
    ("teen access ages", r"\b(?:ages?|aged|teens?|teenagers?)\D{0,12}?\b(\d{2})\s*(?:-|–|to|through)\s*(\d{2})\b",
     lambda m: (int(m.group(1)), int(m.group(2))), (TEENS["min_age"], TEENS["max_age"])),
    ("System Link screen resolution", r"\b\d{3,4} ?x ?\d{3,4}\b", lambda m: m.group(0).replace(" ", ""),
     SYSTEM_LINK_FACTS["min_screen_resolution"]),
    ("System Link registration deadline", r"April (\d+)", lambda m: m.group(0), SYSTEM_LINK_FACTS["registration_deadline"]),
] + [
    (f"{browser} version", rf"{browser.split()[-1]}\D{{0,20}}?(\d+)", lambda m: int(m.group(1)), version)
    for browser, version in SYSTEM_LINK_FACTS["browsers"].items()
]


def numeric_fact_cases():
    """One case per number a response states about a fact: (fact, response, what it says, expected)."""
    for fact, pattern, said, expected in NUMERIC_FACTS:
        for name, text in RESPONSES:
            for match in re.finditer(pattern, text, re.I):
                yield pytest.param(fact, name, said(match), expected, id=f"{fact}: {name}")


NUMERIC_FACT_CASES = list(numeric_fact_cases())
WITH_PHONE_NUMBERS = [pytest.param(name, set(PHONE.findall(text)), id=name)
                      for name, text in RESPONSES if PHONE.search(text)]
TOPIC_ANSWERS_WITH_NUMBERS = [
    pytest.param(name, set(PHONE.findall(text)), line, id=name)
    for name, text in RESPONSES if PHONE.search(text)
    for line, prefixes in INTENT_PREFIXES
    if line != SYSTEM_LINK and name[len("utter_"):].startswith(prefixes)
]
FILE_TYPE_LISTS = [
    pytest.param(name, {t.lower() for t in listed}, id=name) for name, text in RESPONSES
    if len(listed := re.findall(r"\b(pdf|jpe?g|gif|bmp|tiff?|png|docx?|heic)\b", text, re.I)) >= 3
]


def test_there_are_responses_to_check():
    assert len(RESPONSES) > 100


def test_every_numeric_fact_is_stated_somewhere():
    """A pattern that stops matching (a reworded answer) must not pass silently as "nothing wrong"."""
    stated = {param.values[0] for param in NUMERIC_FACT_CASES}
    assert stated == {fact for fact, *_ in NUMERIC_FACTS}
    assert WITH_PHONE_NUMBERS and TOPIC_ANSWERS_WITH_NUMBERS and FILE_TYPE_LISTS


@pytest.mark.parametrize("name,numbers", WITH_PHONE_NUMBERS)
def test_only_known_phone_numbers(name, numbers):
    assert numbers <= set(NUMBERS.values()), name


@pytest.mark.parametrize("name,numbers,line", TOPIC_ANSWERS_WITH_NUMBERS)
def test_a_topic_answer_with_a_number_gives_its_topic_number(name, numbers, line):
    assert NUMBERS[line] in numbers, f"{name} gives {numbers}, expected {NUMBERS[line]}"


@pytest.mark.parametrize("fact,name,said,expected", NUMERIC_FACT_CASES)
def test_numeric_facts(fact, name, said, expected):
    assert said == expected, f"{name} says {said} for {fact}; bot/facts.yml says {expected}"


@pytest.mark.parametrize("name,listed", FILE_TYPE_LISTS)
def test_agreement_file_types_are_complete_when_listed(name, listed):
    assert sorted(listed) == sorted(SYSTEM_LINK_FACTS["agreement_file_types"]), name


def test_emergency_answer_sends_to_911_and_nowhere_else():
    text = dict(RESPONSES)["utter_medical_emergency"]
    assert FACTS["emergency_number"] in text
    assert not PHONE.findall(text)


@pytest.mark.parametrize("name", ["utter_out_of_scope", "utter_medical_advice"])
def test_redirects_give_no_phone_number(name):
    assert not PHONE.findall(dict(RESPONSES)[name])
