"""A short follow-up stays on the conversation's topic; everything else is left to the rules."""
import pytest

from bot.context_policy import (asks_for_another_person, asks_number_for_portal, asks_number_naming_lines,
                                asks_number_on_topic, names_the_portal_meant, strays_from_topic)


@pytest.mark.parametrize("text,intent,confidence,topic", [
    ("what if we miss it?", "ce_text_for_credit", 0.8, "system_link_deadline"),  # another portal
    ("and what do they do", "ask_capabilities", 0.4, "system_link_admin_count"),  # a general answer
    ("and on a phone?", "medical_emergency", 0.4, "ce_mobile_app"),  # not a sure emergency
    ("is that the same on the app", "medical_advice", 0.5, "portal_test_results"),
    ("hmm ok so what do i do", "ask_capabilities", 0.5, "security_phishing"),  # filler before the follow-up
    ("ok so how do we sign up", "mychart_signup", 0.6, "system_link_about"),  # after an acknowledgement
    ("does it matter how big my screen is", "ask_why_needed", 0.34, "system_link_tech_requirements"),  # no form
    ("hmm and what about tablets", "ce_mobile_app", 0.5, "system_link_tech_requirements"),
    ("what email do i use", "mychart_email_required", 0.6, "ce_portal_sign_in"),  # short and unsure
    ("how do we sign up", "mychart_signup", 0.64, "system_link_deadline"),
    ("link not work", "deny", 0.35, "login_forgot_password"),  # an unsure no that tells a problem
    ("the app keeps crashing", "ce_mobile_app", 0.71, "mychart_app"),  # the same question, on the topic's portal
])
def test_a_follow_up_that_would_leave_the_topic_is_answered_in_context(text, intent, confidence, topic):
    assert strays_from_topic(text, intent, confidence, lambda: topic)


@pytest.mark.parametrize("text,intent,confidence,topic", [
    ("what if we miss it?", "system_link_deadline", 0.8, "system_link_request_site"),  # same portal
    ("why do you need my date of birth", "ask_why_needed", 0.9, "mychart_signup"),  # sure: the privacy answer
    ("how do i get my ce transcript", "ce_transcript", 0.9, "lockout_locked_out"),  # a new question
    ("is that the same for the learning center?", "learning_center_transcript", 0.9, "ce_transcript"),  # names it
    ("it's my dad, he can't breathe", "medical_emergency", 0.9, "mychart_about"),  # a sure emergency
    ("and my other child, who is 12?", "check_record_access", 0.9, "ce_transcript"),  # a guided check
    ("ok thanks that's it", "thank", 0.9, "ce_transcript"),  # the conversation itself
    ("that's not what I asked", "frustration", 0.9, "lockout_locked_out"),  # about the answer: the hand-off offer
    ("no that's not it, get me a person", "request_human", 0.9, "lockout_locked_out"),
    ("yes that would help", "affirm", 0.9, "ce_transcript"),
    ("no, that's fine", "deny", 0.9, "ce_transcript"),
    ("nope", "deny", 0.4, "login_forgot_password"),  # unsure, but a clear no
    ("yes", "affirm", 0.45, "login_forgot_password"),
    ("stop it", "stop", 0.9, "ce_transcript"),
    ("and goodbye", "goodbye", 0.9, "ce_transcript"),
    ("and hello there", "greet", 0.9, "ce_transcript"),
    ("how long does that take?", "followup_how_long", 0.9, "ce_transcript"),  # the follow-up table answers
    ("what if we miss it?", "ce_text_for_credit", 0.8, None),  # no topic yet
    ("what is the deadline to register for the new provider portal", "ce_certificates", 0.4,
     "mychart_about"),  # long: a question of its own
    ("where do i find my id card", "health_plans_members", 0.59, "mychart_about"),  # names its portal's thing
    ("how do i reset my password", "login_forgot_password", 0.96, "ce_transcript"),  # sure: a new question
    ("and how do i get proxy access", "proxy_access", 0.9, "system_link_deadline"),  # names a MyChart thing
    ("what about my test results", "portal_test_results", 0.8, "ce_text_for_credit"),
    ("and can i refill prescriptions there", "portal_prescription_renewal", 0.7, "health_plans_members"),
    ("i think im having a stroke", "medical_emergency", 0.5, "ce_transcript"),  # never kept on a topic
    ("whats the weather", "out_of_scope", 0.5, "ce_transcript"),
])
def test_everything_else_is_left_to_the_rules(text, intent, confidence, topic):
    assert not strays_from_topic(text, intent, confidence, lambda: topic)


def test_and_for_a_portal_after_a_number_question_asks_that_portals_number():
    assert asks_number_for_portal("and for my own mychart?", "ask_phone_number")
    assert asks_number_for_portal("which one is for my work computer", "all_support_numbers")  # a line's words
    assert not asks_number_for_portal("and for my own mychart?", "lockout_locked_out")  # not after a number
    assert not asks_number_for_portal("my teen wants her own mychart account, can she", "ask_phone_number")
    # a question of its own, read surely, keeps its answer; an unsure or "what is it" reading names the portal
    assert not asks_number_for_portal("ok, and whats the system link deadline while im here",
                                      "employee_network_password", "system_link_deadline", 0.99)
    assert asks_number_for_portal("what about for my mychart", "ask_phone_number", "mychart_about", 0.81)
    assert asks_number_for_portal("and for my own mychart?", "ask_phone_number", "teen_own_account", 0.53)


def test_ok_then_a_question_is_a_follow_up_not_an_acknowledgement():
    """"ugh ok. and my passwrd?" is read as "ok" for its filler; what follows it leans on the last answer."""
    assert strays_from_topic("ugh ok. and my passwrd?", "acknowledge", 0.32, lambda: "mychart_averachart_move")
    assert not strays_from_topic("ok got it", "acknowledge", 0.9, lambda: "mychart_averachart_move")


def test_a_detail_the_last_answer_already_gives_stays_on_that_answer():
    """"hmm and my username" after the AveraChart move: the move answer says it, not the username recovery."""
    said = {"mychart_averachart_move": "username"}
    answered = lambda text, about: said.get(about, "-") in text  # noqa: E731
    assert strays_from_topic("hmm and my username", "login_forgot_username", 0.6, lambda: "mychart_averachart_move",
                             answered)
    assert not strays_from_topic("and my password?", "login_forgot_password", 0.6, lambda: "login_forgot_username",
                                 answered)
    assert not strays_from_topic("what about my username, i forgot it", "login_forgot_username", 0.8,
                                 lambda: "mychart_averachart_move", answered)


@pytest.mark.parametrize("text,intent,asks", [
    ("ok so i'm a nurse at avera and i also have mychart as a patient, and my network login is messed up, "
     "which line do i call", "nlu_fallback", True),
    ("she can't get into her MyChart and my own network password expired. Which line should each of us call?",
     "system_link_existing_site", True),  # two lines named, one read
    ("please what is telephone for help with mychart", "mychart_about", True),
    ("who do i call to move my appointment", "portal_appointments", False),  # its answer: the clinic
    ("what number do i text for ce credit", "ce_text_for_credit", False),
    ("my phone number changed, how do i update mychart", "mychart_about", False),
    ("which number is the mychart one", "all_support_numbers", False),  # the rules give it
    ("i work at avera and my network password expired, also my wife can't get into mychart. who do we call",
     "employee_network_password", True),  # the IT desk's answer gives its own line only
])
def test_a_number_asked_for_with_the_lines_named_is_given_however_it_was_read(text, intent, asks):
    assert asks_number_naming_lines(text, intent) is asks


def test_only_a_portal_named_after_an_answer_about_another_says_which_portal_was_meant():
    assert names_the_portal_meant("mychart, what else would it be", "mychart_about", lambda: "employee_network_password",
                                  "employee_network_password")
    assert names_the_portal_meant("for mychart", "nlu_fallback", lambda: None, "followup_how_long")  # "which portal?"
    assert names_the_portal_meant("mychart obviously", "mychart_about", lambda: "login_forgot_password",
                                  "login_forgot_password")  # confirms the answer about it
    assert not names_the_portal_meant("yes mychart", "affirm", lambda: "login_forgot_password",
                                      "login_forgot_password")  # a yes to its offer
    assert not names_the_portal_meant("mychart", "mychart_about", lambda: None, None)  # the first message


@pytest.mark.parametrize("text,intent,asks", [
    ("what about my husband?", "followup_device", True),  # read as a follow-up about the verdict
    ("and the older one, she's 16", "out_of_scope", True),
    ("ok and my 19 year old", "followup_how", True),
    ("how do i set that up", "followup_how", False),  # names nobody: about the verdict given
    ("why? i'm his mother", "followup_why", False),  # about the verdict given
    ("no wait, i'm his mother", "out_of_scope", True),  # a correction: the check again
    ("thanks, my son will be glad", "thank", False),  # the conversation itself
    ("can my 15 year old have her own account", "teen_own_account", False),  # a question of its own
    ("my husband has chest pain", "medical_emergency", False),
    ("and my wife's?", "medical_emergency", True),  # only a person, read (unsure) as an emergency
    ("and my wifes?", "nlu_fallback", True),
    ("no i meant my stepdaughter", "deny", True),  # a correction of the person, read as a no
    ("no thanks", "deny", False),
])
def test_right_after_a_verdict_another_person_gets_the_check_again(text, intent, asks):
    assert asks_for_another_person(text, intent) is asks


@pytest.mark.parametrize("text,intent,topic,asks", [
    ("ok who do i call if the app won't let me in", "ce_mobile_app", "mychart_app", True),  # another portal's reading
    ("who do i call if the app won't let me in", "mychart_app", "mychart_app", False),  # its own answer stands
    ("who do i call about my cloudcme app", "ce_mobile_app", "mychart_app", False),  # names its portal
    ("who do i call", "ask_phone_number", "mychart_app", False),  # the rules give the topic's number
    ("who do i call to move my appointment", "portal_appointments", "ce_transcript", False),  # names MyChart's thing
])
def test_a_number_asked_for_read_as_another_portals_question_gets_the_topics_number(text, intent, topic, asks):
    assert asks_number_on_topic(text, intent, lambda: topic) is asks
