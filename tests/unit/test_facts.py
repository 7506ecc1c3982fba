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


RESPONSES = list(responses())
ids = [name for name, _ in RESPONSES]


def as_number(token: str) -> int:
    return int(token) if token.isdigit() else WORD_NUMBERS[token.lower()]


def test_there_are_responses_to_check():
    assert len(RESPONSES) > 100


@pytest.mark.parametrize("name,text", RESPONSES, ids=ids)
def test_only_known_phone_numbers(name, text):
    assert set(PHONE.findall(text)) <= set(NUMBERS.values()), name


@pytest.mark.parametrize("name,text", RESPONSES, ids=ids)
def test_a_topic_answer_with_a_number_gives_its_topic_number(name, text):
    intent = name[len("utter_"):]
    found = set(PHONE.findall(text))
    for line, prefixes in INTENT_PREFIXES:
        if line != SYSTEM_LINK and intent.startswith(prefixes) and found:
            assert NUMBERS[line] in found, f"{name} gives {found}, expected {NUMBERS[line]}"


@pytest.mark.parametrize("name,text", RESPONSES, ids=ids)
def test_numeric_facts(name, text):
    login = FACTS["login"]
    ce = FACTS["ce_portal"]
    counted = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty)"
    for match in re.finditer(counted + r"(?:th)? (?:unsuccessful |failed |wrong |incorrect )?(?:login |log-in |sign-in )?(?:attempts|tries)", text, re.I):
        assert as_number(match.group(1)) == login["failed_attempts_before_lockout"], name
    for match in re.finditer(counted + r"[ -]?min(ute)?s?\b", text, re.I):
        assert as_number(match.group(1)) == login["reset_link_valid_minutes"], name
    for match in re.finditer(r"(\d+)[ -]?digit (?:activity |attendance |ce )?code", text, re.I):
        assert int(match.group(1)) == ce["text_code_digits"], name
    for match in re.finditer(r"(\d+) hours", text, re.I):
        assert int(match.group(1)) == ce["text_within_hours"], name
    for match in re.finditer(r"(\d+) days", text, re.I):
        assert int(match.group(1)) == ce["certificate_days"], name
    for match in re.finditer(r"\b(?:ages?|aged|teens?|teenagers?)\D{0,12}?\b(\d{2})\s*(?:-|–|to|through)\s*(\d{2})\b", text, re.I):
        assert (int(match.group(1)), int(match.group(2))) == (
            FACTS["teen_access"]["min_age"], FACTS["teen_access"]["max_age"]), name
    for match in re.finditer(r"\b\d{3,4} ?x ?\d{3,4}\b", text):
        assert match.group(0).replace(" ", "") == FACTS["system_link"]["min_screen_resolution"], name
    for match in re.finditer(r"April (\d+)", text):
        assert f"April {match.group(1)}" == FACTS["system_link"]["registration_deadline"], name
    for browser, version in FACTS["system_link"]["browsers"].items():
        short = browser.split()[-1]
        for match in re.finditer(rf"{short}\D{{0,20}}?(\d+)", text):
            assert int(match.group(1)) == version, f"{name}: {short} {match.group(1)}"


@pytest.mark.parametrize("name,text", RESPONSES, ids=ids)
def test_agreement_file_types_are_complete_when_listed(name, text):
    allowed = FACTS["system_link"]["agreement_file_types"]
    listed = [t for t in re.findall(r"\b(pdf|jpe?g|gif|bmp|tiff?|png|docx?|heic)\b", text, re.I)]
    if len(listed) >= 3:
        assert sorted({t.lower() for t in listed}) == sorted(allowed), name


def test_emergency_answer_sends_to_911_and_nowhere_else():
    text = dict(RESPONSES)["utter_medical_emergency"]
    assert FACTS["emergency_number"] in text
    assert not PHONE.findall(text)


@pytest.mark.parametrize("name", ["utter_out_of_scope", "utter_medical_advice"])
def test_redirects_give_no_phone_number(name):
    assert not PHONE.findall(dict(RESPONSES)[name])
