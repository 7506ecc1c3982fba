"""The identity forms take a name, date of birth or contact said before it was asked, and ask only for the rest.

Driven through the forms' real validation action, with Rasa's part played as
it plays it: the answer to the question asked is put in that slot (the
`from_text` mappings of domain.yml) before the action runs.
"""
import asyncio
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import IDENTITY_SLOTS
from actions.login import ValidatePasswordResetForm
from actions.parsing import find_date_of_birth, find_full_name, full_name_in_answer

DOMAIN = yaml.safe_load(Path(__file__).parents[2].joinpath("domain.yml").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 21)


class ResetForm:
    """One person asking for a password reset link: what they type, what the form asks next."""

    def __init__(self) -> None:
        self.slots: Dict[str, Any] = {slot: None for slot in IDENTITY_SLOTS}
        self.slots["requested_slot"] = None
        self.events: List[Dict[str, Any]] = []

    def earlier(self, text: str) -> None:
        """A message before the form started."""
        self.events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": "lockout_locked_out"}}})

    def say(self, text: str, intent: Optional[str] = "nlu_fallback") -> str:
        self.events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}})
        requested = self.slots["requested_slot"]
        if requested:  # Rasa's from_text mapping, before the validation action runs
            self.slots[requested] = text
            self.events.append({"event": "slot", "name": requested, "value": text})
        message = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
        tracker = Tracker("unit", dict(self.slots), message, list(self.events), False, None,
                          {"name": "password_reset_form"}, "action_listen")
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ValidatePasswordResetForm().run(dispatcher, tracker, DOMAIN))
        for event in events:
            self.slots[event["name"]] = event["value"]
        self.events += events
        return "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)


def test_name_and_date_of_birth_in_the_first_message_are_not_asked_again():
    form = ResetForm()
    reply = form.say("locked out of mychart, I'm Pat Kim born 1/2/1960, send me a reset link",
                     intent="request_password_reset")
    assert form.slots["full_name"] == "Pat Kim" and form.slots["date_of_birth"] == "1960-01-02"
    assert "e-mail or mobile phone" in reply and "first and last name" not in reply


def test_a_name_said_in_the_message_before_the_form_is_kept():
    form = ResetForm()
    form.earlier("my account is locked. this is Ana Ruiz, date of birth March 3 1972")
    reply = form.say("yes", intent="affirm")
    assert (form.slots["full_name"], form.slots["date_of_birth"]) == ("Ana Ruiz", "1972-03-03")
    assert "e-mail or mobile phone" in reply


def test_only_the_missing_question_is_asked():
    form = ResetForm()
    reply = form.say("pls send me a password reset link, my name is lee chen", intent="request_password_reset")
    assert form.slots["full_name"] == "lee chen"
    assert "date of birth" in reply and "first and last name" not in reply


def test_an_answer_that_holds_the_next_answer_too():
    form = ResetForm()
    assert "first and last name" in form.say("reset my password", intent="request_password_reset")
    reply = form.say("Robin Ortiz 7/4/1988")
    assert (form.slots["full_name"], form.slots["date_of_birth"]) == ("Robin Ortiz", "1988-07-04")
    assert "e-mail or mobile phone" in reply
    reply = form.say("robin.ortiz@example.org")
    assert "Robin Ortiz" in reply and "1988-07-04" in reply and "Should I send" in reply


def test_a_date_that_is_not_said_to_be_a_birthday_is_not_taken_before_the_form():
    form = ResetForm()
    form.earlier("I'm locked out since 3/8/2026")
    reply = form.say("yes", intent="affirm")
    assert form.slots["full_name"] is None and form.slots["date_of_birth"] is None
    assert "first and last name" in reply


@pytest.mark.parametrize("text, name", [
    ("I need a new mychart access code, my name is Maria Lopez", ("Maria", "Lopez")),
    ("hi, John Smith here, dob 4/12/1985. my code never came", ("John", "Smith")),
    ("born 12/01/1975, name Sam Patel", ("Sam", "Patel")),
    ("I'm locked out", None),
    ("I am trying to log in", None),
    ("my user name is jsmith", None),
    ("this is ridiculous", None),
])
def test_names_said_in_passing(text, name):
    assert find_full_name(text) == name


@pytest.mark.parametrize("text, name", [
    ("Robin Ortiz 7/4/1988", ("Robin", "Ortiz")),
    ("its Robin Ortiz, born 7/4/1988", ("Robin", "Ortiz")),
    ("Robin Ortiz, robin@example.org", ("Robin", "Ortiz")),
    ("why do you need my name?", None),
])
def test_a_name_answer_with_more_after_it(text, name):
    assert full_name_in_answer(text) == name


def test_dates_of_birth_in_a_sentence():
    assert find_date_of_birth("John Smith, dob 4/12/1985, thanks", needs_cue=True, today=TODAY) == date(1985, 4, 12)
    assert find_date_of_birth("I was born March 3, 1972", needs_cue=True, today=TODAY) == date(1972, 3, 3)
    assert find_date_of_birth("my appointment was 3/8/2026", needs_cue=True, today=TODAY) is None
    assert find_date_of_birth("it's 2/30/1990 I think", today=TODAY) is None


def test_where_will_it_be_sent_during_the_form_is_about_what_the_form_sends():
    """Started by a yes after the lockout answer: the reset link, not the lockout e-mail."""
    form = ResetForm()
    form.earlier("i'm locked out of mychart")
    assert "first and last name" in form.say("yes", "affirm")
    reply = form.say("where will it be sent?", "followup_where")
    assert "e-mail already on file" in reply and "first and last name" in reply


def test_no_i_meant_another_portal_ends_the_form_and_answers_for_that_portal():
    form = ResetForm()
    assert "first and last name" in form.say("reset my password", "request_password_reset")
    reply = form.say("no i meant the learning center", "correction")
    assert "first and last name" not in reply and "Please give" not in reply
    assert form.slots["requested_slot"] is None


def test_a_change_of_mind_ends_the_form_and_answers_what_is_asked_instead():
    form = ResetForm()
    form.say("i need to reset my password", intent="request_password_reset")
    reply = form.say("oh wait its my username i forgot not the password", intent="login_forgot_username")
    assert reply == "utter_login_forgot_username"
    assert form.slots["requested_slot"] is None and form.slots["full_name"] is None


def test_a_side_question_after_wait_is_answered_and_the_form_goes_on():
    form = ResetForm()
    form.say("i need to reset my password", intent="request_password_reset")
    reply = form.say("wait, what if the reset link expires?", intent="login_reset_link_expired")
    assert "utter_login_reset_link_expired" in reply and "first and last name" in reply
    assert form.slots["requested_slot"] == "full_name"


def test_a_follow_up_said_as_a_statement_is_answered_and_the_form_goes_on():
    form = ResetForm()
    form.say("i need to reset my password", intent="request_password_reset")
    reply = form.say("i dont have access to that email anymore", intent="followup_dont_have")
    assert "855-667-9704" in reply and "first and last name" in reply
    assert form.slots["full_name"] is None
