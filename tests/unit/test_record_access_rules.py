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
])
def test_relationship_in_a_sentence(text, relationship):
    assert parse_relationship(text, asked=False) == relationship


def test_relationship_as_an_answer():
    assert parse_relationship("mother", asked=True) == PARENT
    assert parse_relationship("i'm her daughter", asked=True) == ADULT_FAMILY
    assert parse_relationship("neighbor", asked=True) == "other"


@pytest.mark.parametrize("text,group", [
    ("15", TEEN_AGE), ("he is 17", TEEN_AGE), ("my 14 year old", TEEN_AGE), ("13", UNDER_TEEN),
    ("18", ADULT), ("my teenager", TEEN_AGE), ("elderly", ADULT), ("a toddler", UNDER_TEEN), ("no idea", None),
])
def test_age_groups_follow_the_14_to_17_rule(text, group):
    assert age_group(text) == group


def test_emancipation():
    assert parse_emancipated("she is emancipated now", asked=False, intent=None) is True
    assert parse_emancipated("he's not emancipated", asked=False, intent=None) is False
    assert parse_emancipated("no", asked=True, intent="deny") is False
    assert parse_emancipated("no", asked=False, intent="deny") is None
