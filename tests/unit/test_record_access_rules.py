"""The guided record-access check reads relationships and ages the way people say them."""
import pytest

from actions.record_access import (ADULT, ADULT_FAMILY, CAREGIVER, GUARDIAN, PARENT, TEEN_AGE, UNDER_TEEN,
                                   age_group, parse_emancipated, parse_relationship)


@pytest.mark.parametrize("text,relationship", [
    ("can i see my son's record", PARENT),
    ("my 16 yr old daughter", PARENT),
    ("as her mom will i still see it", PARENT),
    ("I'm his legal guardian", GUARDIAN),
    ("im the caregiver for my elderly dad", CAREGIVER),
    ("how do i see my husband's chart", ADULT_FAMILY),
    ("my grandson is 15 can I see his chart", "other"),
    ("can I look at my mother's results", ADULT_FAMILY),
    ("what are the rules", None),
    ("my step daughter is 12", "other"),
])
def test_relationship_in_a_sentence(text, relationship):
    assert parse_relationship(text, asked=False) == relationship


def test_relationship_as_an_answer():
    assert parse_relationship("mother", asked=True) == PARENT
    assert parse_relationship("i'm her daughter", asked=True) == ADULT_FAMILY
    assert parse_relationship("neighbor", asked=True) == "other"


@pytest.mark.parametrize("text,group", [
    ("15", TEEN_AGE), ("he is 17", TEEN_AGE), ("my 14 year old", TEEN_AGE), ("13", UNDER_TEEN),
    ("18", ADULT), ("she is fifteen", TEEN_AGE), ("twelve", UNDER_TEEN), ("my teenager", TEEN_AGE), ("elderly", ADULT), ("a toddler", UNDER_TEEN), ("no idea", None),
])
def test_age_groups_follow_the_14_to_17_rule(text, group):
    assert age_group(text) == group


@pytest.mark.parametrize("text,group", [
    ("brother's records. 30. how", ADULT),          # a number that is a clause of its own
    ("my son, 15, can i see his chart", TEEN_AGE),
    ("i have 2 kids and want their records", None),   # a count, not an age
    ("im the caregiver for my dad, how do i see his records", ADULT),  # a parent cared for is an adult
    ("i take care of my grandma", ADULT),
])
def test_ages_said_tersely_or_implied_by_whom_one_cares_for(text, group):
    assert age_group(text) == group


def test_emancipation():
    assert parse_emancipated("she is emancipated now", asked=False) is True
    assert parse_emancipated("he's not emancipated", asked=False) is False
    assert parse_emancipated("no", asked=True) is False
    assert parse_emancipated("no", asked=False) is None


@pytest.mark.parametrize("text,answer", [
    ("yes", True), ("Yes", True), ("yep", True), ("she is", True), ("he is.", True), ("yes she is", True),
    ("no", False), ("nope", False), ("he isn't", False), ("she's not", False), ("no, she isn't", False),
    ("not emancipated", False), ("no she's 16 and lives with me", False),
])
def test_a_clear_yes_or_no_answers_the_emancipation_question(text, answer):
    assert parse_emancipated(text, asked=True) is answer


@pytest.mark.parametrize("text", ["ok thanks", "ok", "okay", "hmm", "sure thing", "thanks", "maybe",
                                  "i think so", "what does emancipated mean?", "no idea if she's emancipated", "not sure", "is she emancipated if she's married?",
                                  "wait what"])
def test_anything_else_is_not_taken_as_an_answer(text):
    assert parse_emancipated(text, asked=True) is None
