"""The values people type into forms are read exactly, or asked again."""
from datetime import date

import pytest

from actions.parsing import parse_date_of_birth, parse_email, parse_full_name, parse_phone, parse_yes_no

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize("text", ["3/8/1979", "03/08/1979", "March 8 1979", "march 8, 1979",
                                  "Mar. 8, 1979", "8 March 1979", "1979-03-08", "born 3-8-1979"])
def test_dates_of_birth_in_the_ways_people_type_them(text):
    assert parse_date_of_birth(text, TODAY) == date(1979, 3, 8)


def test_leap_day_is_a_real_birthday():
    assert parse_date_of_birth("02/29/1984", TODAY) == date(1984, 2, 29)


@pytest.mark.parametrize("text", ["2/30/1990", "02/29/1985", "13/13/2000", "1/2/2030", "yesterday",
                                  "1979", "March 1979", "3/8/79", "1/1/1850", ""])
def test_impossible_or_unclear_dates_are_refused(text):
    assert parse_date_of_birth(text, TODAY) is None


def test_names():
    assert parse_full_name("Dana Quill") == ("Dana", "Quill")
    assert parse_full_name("my name is Ana de la Cruz") == ("Ana", "de la Cruz")
    assert parse_full_name("Doe, Jane") == ("Jane", "Doe")
    assert parse_full_name("Dana") is None
    assert parse_full_name("why do you need my name?") is None


def test_contacts():
    assert parse_email("it's Dana.Q@Example.org thanks") == "dana.q@example.org"
    assert parse_phone("(605) 555-0142") == "6055550142"
    assert parse_phone("+1 605 555 0142") == "6055550142"
    assert parse_phone("555-0142") is None
    assert parse_phone("dana@example.org") is None


def test_yes_no():
    assert parse_yes_no("yes") is True
    assert parse_yes_no("I agree") is True
    assert parse_yes_no("nope") is False
    assert parse_yes_no("whatever", intent="affirm") is True
    assert parse_yes_no("maybe") is None
