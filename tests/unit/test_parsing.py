"""The values people type into forms are read exactly, or asked again."""
from datetime import date

import pytest

from actions.parsing import parse_date_of_birth, parse_full_name, parse_yes_no
from bot.backend.validation import Form
from bot.contact_formats import find_email, find_us_phone, phone_digits

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
    assert find_email("it's Dana.Q@Example.org thanks") == "dana.q@example.org"
    assert find_us_phone("(605) 555-0142") == "6055550142"
    assert find_us_phone("+1 605 555 0142") == "6055550142"
    assert find_us_phone("555-0142") is None
    assert find_us_phone("dana@example.org") is None


def test_yes_no():
    assert parse_yes_no("yes") is True
    assert parse_yes_no("I agree") is True
    assert parse_yes_no("try again") is True  # after "I can't do that right now", at a form's confirmation
    assert parse_yes_no("nope") is False
    assert parse_yes_no("whatever", intent="affirm") is True
    assert parse_yes_no("maybe") is None


@pytest.mark.parametrize("typed", ["Dana.Q@Example.org", "it's dana+mychart@mail.example.org thanks", "o'brien@example.org"])
def test_an_address_read_in_the_chat_is_one_the_backend_accepts(typed):
    form = Form({"email": find_email(typed)})
    assert form.email("email") == find_email(typed) and not form.errors


@pytest.mark.parametrize("typed", ["jörg@example.org", "dana@example", "dana@@example.org", "dana q@example.org"])
def test_the_backend_refuses_an_address_the_chat_would_not_read_as_typed(typed):
    """One pattern: the backend used to store "jörg@example.org" while the chat read "rg@example.org"."""
    assert find_email(typed) != typed.lower()
    assert Form({"email": typed}).email("email") is None


@pytest.mark.parametrize("typed", ["+1 (605) 555-0142", "605.555.0142", "1-605-555-0142"])
def test_a_number_read_in_the_chat_is_stored_digit_for_digit(typed):
    assert find_us_phone(typed) == Form({"phone": typed}).phone("phone") == phone_digits(typed) == "6055550142"
