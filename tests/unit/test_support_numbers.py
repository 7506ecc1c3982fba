"""The right support number: from the words first, then from the conversation."""
import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.support_numbers import GiveSupportNumber, answer_for, line_from_context, line_from_words
from bot.facts import phone


def tracker_with_intents(*intents):
    events = [{"event": "user", "text": "...", "parse_data": {"intent": {"name": name}}} for name in intents]
    return Tracker("t", {}, {}, events, False, None, {}, "action_listen")


@pytest.mark.parametrize("text,line", [
    ("is that the same one for mychart?", "mychart"),
    ("who do i call if my CE credits look wrong", "learning_center_ce"),
    ("number for avera health plans", "health_plans"),
    ("i work for avera and my network password expired", "employee_it"),
    ("my network login is messed up", "employee_it"),
    ("what number do i call", None),
])
def test_line_from_words(text, line):
    assert line_from_words(text) == line


def test_a_line_named_only_to_be_ruled_out_is_not_given():
    dispatcher = CollectingDispatcher()
    text = "i need the phone number for help with my avera health plans login not mychart"
    tracker = Tracker("t", {}, {"text": text, "intent": {"name": "ask_phone_number"}},
                      [{"event": "user", "text": text, "parse_data": {"intent": {"name": "ask_phone_number"}}}],
                      False, None, {}, "action_listen")
    asyncio.run(GiveSupportNumber().run(dispatcher, tracker, {}))
    said = dispatcher.messages[0]["text"]
    assert phone("health_plans") in said and phone("mychart") not in said


def test_context_is_the_latest_topic_before_the_question():
    tracker = tracker_with_intents("lockout_locked_out", "ce_text_for_credit", "ask_phone_number")
    assert line_from_context(tracker) == "learning_center_ce"


def test_no_context_lists_every_number():
    text = answer_for(None)
    for line in ("mychart", "learning_center_ce", "health_plans", "employee_it"):
        assert phone(line) in text


def test_system_link_has_no_number_in_the_documents():
    assert "site administrator" in answer_for("system_link")
    assert not any(ch.isdigit() for ch in answer_for("system_link"))



def test_can_i_just_call_after_changing_an_appointment_is_the_clinic():
    dispatcher = CollectingDispatcher()
    tracker = tracker_with_intents("portal_appointments", "ask_phone_number")
    asyncio.run(GiveSupportNumber().run(dispatcher, tracker, {}))
    text = dispatcher.messages[0]["text"]
    assert "call your clinic" in text and "don't list clinic phone numbers" in text
    assert phone("mychart") in text  # for problems with the portal itself


@pytest.mark.parametrize("text,says", [
    ("which number is for claims questions", [phone("health_plans")]),
    ("all the support numbers please", [phone("mychart"), phone("health_plans"), phone("employee_it")]),
    ("numbers for mychart and health plans", [phone("mychart"), phone("health_plans")]),
])
def test_all_numbers_gives_the_one_line_the_message_names_else_the_list(text, says):
    dispatcher = CollectingDispatcher()
    message = {"text": text, "intent": {"name": "all_support_numbers"}}
    tracker = Tracker("t", {}, message, [{"event": "user", "text": text, "parse_data": message}], False, None, {},
                      "action_listen")
    asyncio.run(GiveSupportNumber().run(dispatcher, tracker, {}))
    reply = dispatcher.messages[0].get("text") or dispatcher.messages[0].get("response")
    if len(says) == 1:
        assert says[0] in reply and phone("mychart") not in reply
    else:
        assert reply == "utter_all_support_numbers"


def test_who_do_i_call_about_my_appointment_after_changing_one_is_the_clinic():
    dispatcher = CollectingDispatcher()
    events = [{"event": "user", "text": "can i move my appointment", "parse_data": {"intent": {"name": "portal_appointments"}}},
              {"event": "user", "text": "who do i call to move my appointment",
               "parse_data": {"intent": {"name": "ask_phone_number"}}}]
    tracker = Tracker("t", {}, {"text": "who do i call to move my appointment"}, events, False, None, {}, "action_listen")
    asyncio.run(GiveSupportNumber().run(dispatcher, tracker, {}))
    assert "call your clinic" in dispatcher.messages[0]["text"]


def test_a_number_question_naming_two_lines_gets_both():
    dispatcher = CollectingDispatcher()
    events = [{"event": "user", "text": "my mother is locked out of mychart and my epic password expired, who do we call",
               "parse_data": {"intent": {"name": "ask_phone_number"}}}]
    tracker = Tracker("t", {}, {"text": events[0]["text"], "intent": {"name": "ask_phone_number"}}, events, False,
                      None, {}, "action_listen")
    asyncio.run(GiveSupportNumber().run(dispatcher, tracker, {}))
    text = dispatcher.messages[0]["text"]
    assert phone("mychart") in text and phone("employee_it") in text


@pytest.mark.parametrize("text,lines", [
    ("locked out of system link, who do i call", ["system_link"]),
    ("i'm locked out of the health plans site, number?", ["health_plans"]),
    ("i'm locked out, what's the number", ["mychart"]),
    ("locked out of mychart and need the health plans number too", ["health_plans", "mychart"]),
])
def test_locked_out_says_what_happened_not_where(text, lines):
    from actions.conversation_topic import lines_named
    assert lines_named(text) == lines


def test_the_sharing_answer_also_answers_for_system_link():
    from actions.followups import answers_for_portal
    assert answers_for_portal("security_sharing_credentials", "system_link")
    assert not answers_for_portal("security_sharing_credentials", "learning_center")
    assert not answers_for_portal("login_forgot_password", "system_link")
