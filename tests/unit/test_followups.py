"""Follow-ups, corrections, two questions and unclear wording are answered about the conversation's topic."""
import asyncio
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_topic import topic_intent
from actions.followups import (TABLE, AnswerCorrection, AnswerFollowup, AnswerInContext, AnswerTwoQuestions,
                               answer_to_followup, portal_reply, reads_another_portal)
from actions.record_access import VERDICTS, verdict_topic
from actions.site_requests import ValidateSiteRequestStatusForm
from bot.facts import phone
from bot.nlu.two_questions import TwoQuestions, split_questions

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def answered(*intents: str) -> List[Dict]:
    """Events of a conversation where each question was asked and answered with its response."""
    events: List[Dict] = []
    for intent in intents:
        events.append({"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}})
        events.append({"event": "action", "name": f"utter_{intent}"})
        events.append({"event": "bot", "text": "...", "metadata": {"utter_action": f"utter_{intent}"}})
    return events


def run(action, history: List[Dict], text: str, intent: str, **parse) -> List[Dict]:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, **parse}
    events = history + [{"event": "user", "text": text, "parse_data": message}]
    tracker = Tracker("unit", {}, message, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages


def said(messages: List[Dict]) -> str:
    return "\n".join(m.get("text") or m.get("response") or "" for m in messages)


def test_how_long_after_a_lockout_is_about_the_lockout():
    reply = said(run(AnswerFollowup(), answered("lockout_locked_out"), "how long does that last?", "followup_how_long"))
    assert "temporar" in reply and phone("mychart") in reply and "911" not in reply


def test_how_long_after_a_site_request_is_the_approval_time():
    reply = said(run(AnswerFollowup(), answered("system_link_request_site"), "how long does that take?",
                     "followup_how_long"))
    assert "few weeks" in reply


def test_the_topic_stays_over_several_follow_ups():
    history = answered("learning_center_transcript") + [
        {"event": "user", "text": "why?", "parse_data": {"intent": {"name": "followup_why"}}},
        {"event": "action", "name": "action_answer_followup"},
        {"event": "bot", "text": "My documents don't say why here."},
    ]
    assert "PDF or Excel" in said(run(AnswerFollowup(), history, "which format?", "followup_format"))


def test_where_the_documents_are_silent_it_says_so_and_gives_the_topics_number():
    reply = said(run(AnswerFollowup(), answered("ce_transcript"), "is it free?", "followup_cost"))
    assert "don't say" in reply and phone("learning_center_ce") in reply
    assert phone("mychart") not in reply


@pytest.mark.parametrize("verdict,says,not_says", [
    ("record_access_adult", "proxy access", "emancipated"),  # "how do I set that up?" for another adult
    ("record_access_parent_of_minor", "by law", "not allowed for parents of emancipated minors; and another"),
])
def test_how_after_the_record_access_verdict_is_about_that_verdict(verdict, says, not_says):
    history = [{"event": "user", "text": "...", "parse_data": {"intent": {"name": "check_record_access"}}},
               {"event": "action", "name": "action_explain_record_access"},
               {"event": "bot", "text": "...", "metadata": {"utter_action": f"utter_{verdict_topic(verdict)}"}}]
    reply = said(run(AnswerFollowup(), history, "how do i set that up", "followup_how"))
    assert says in reply and not_says not in reply and phone("mychart") in reply


def test_system_link_follow_up_without_an_answer_points_to_the_site_administrator():
    reply = said(run(AnswerFollowup(), answered("system_link_deadline"), "is it free?", "followup_cost"))
    assert "don't say" in reply and "site administrator" in reply


def test_a_follow_up_without_a_topic_asks_what_it_is_about():
    reply = said(run(AnswerFollowup(), [], "how long does that take?", "followup_how_long"))
    assert "not sure what that refers to" in reply


def test_the_same_question_about_another_portal():
    messages = run(AnswerFollowup(), answered("learning_center_transcript"), "is that the same for the CE portal?",
                   "followup_format")
    assert messages[0]["response"] == "utter_ce_transcript"


def test_an_answer_that_holds_for_every_portal_is_the_same_for_another_portal():
    messages = run(AnswerFollowup(), answered("security_session_timeout"), "is that the same for the learning center?",
                   "followup_confirm")
    assert "every Avera portal, the Learning Center included" in messages[0]["text"]
    assert messages[1]["response"] == "utter_security_session_timeout"


@pytest.mark.parametrize("history,text,response", [
    (["ce_transcript"], "no, I meant the learning center", "utter_learning_center_transcript"),
    (["lockout_locked_out"], "wait, i meant the health plans portal", "utter_health_plans_about"),
    (["learning_center_login"], "sorry i meant the CE portal", "utter_ce_portal_sign_in"),
    (["learning_center_transcript"], "NO. the CE portal transcript, not the learning center", "utter_ce_transcript"),
    (["employee_network_password"], "mychart, what else would it be", "utter_login_forgot_password"),  # misread
    (["system_link_login_problem"], "sorry no i meant my own mychart as a patient", "utter_login_forgot_password"),
])
def test_a_correction_answers_for_the_portal_meant(history, text, response):
    messages = run(AnswerCorrection(), answered(*history), text, "correction")
    assert messages[-1]["response"] == response
    # the same question, when its portal has one, is answered alone
    assert len(messages) == 1 or response.endswith("_about")


def test_a_question_for_a_portal_my_documents_are_silent_on_says_so_before_what_it_is():
    """"Is that the same for MyChart?" after the System Link browsers: the documents give them for System Link only."""
    messages = run(AnswerCorrection(), answered("system_link_tech_requirements"), "is that the same for mychart?",
                   "correction")
    assert "don't say that for MyChart" in messages[0]["text"] and phone("mychart") in messages[0]["text"]
    assert "Avera System Link" in messages[0]["text"]
    assert messages[1]["response"] == "utter_mychart_about"


def test_a_correction_after_a_phone_number_gives_the_number_meant():
    history = [{"event": "user", "text": "ce number", "parse_data": {"intent": {"name": "ask_phone_number"}}},
               {"event": "action", "name": "action_give_support_number"}]
    reply = said(run(AnswerCorrection(), history, "wait, i meant mychart", "correction"))
    assert phone("mychart") in reply and phone("learning_center_ce") not in reply


def test_the_portal_named_after_which_portal_answers_the_follow_up_for_it():
    """"how long does it take to get approved?" -> "which portal?" -> "for mychart": MyChart's activation time."""
    asked = {"text": "how long does it take to get approved", "parse_data": {
        "intent": {"name": "followup_how_long"}, **ranking(("followup_how_long", 0.88), (
            "system_link_approval_time", 0.12), ("portal_first_time_access", 0.06))}}
    history = [{"event": "user", **asked}, {"event": "action", "name": "action_answer_followup"}]
    assert "two business days" in said(run(AnswerCorrection(), history, "for mychart", "nlu_fallback"))


@pytest.mark.parametrize("text,portal", [
    ("mychart, what else would it be", "mychart"),
    ("for mychart obviously", "mychart"),
    ("the CE one", "ce_portal"),
    ("and for my own mychart?", None),  # asks something of its own
    ("how do i sign up for mychart", None),
    ("no idea", None),
])
def test_a_reply_that_only_names_a_portal(text, portal):
    assert portal_reply(text) == portal


def test_a_message_naming_a_portal_but_read_as_another_is_answered_for_the_portal_named():
    read = ranking(("login_forgot_password", 0.5), ("system_link_login_problem", 0.07))["intent_ranking"]
    assert reads_another_portal("i cant log in to system link", read, DOMAIN) == "system_link_login_problem"
    assert reads_another_portal("is system link the same login as mychart", read, DOMAIN) is None  # names both
    sure = ranking(("security_sharing_credentials", 0.99), ("system_link_about", 0.001))["intent_ranking"]
    assert reads_another_portal("can i share my system link password", sure, DOMAIN) is None
    # A question each portal answers in its own way: the portal named counts, a word of the reading's line does not.
    locked = ranking(("lockout_locked_out", 0.78), ("health_plans_about", 0.16))["intent_ranking"]
    assert reads_another_portal("locked out of my avera health plans account", locked, DOMAIN) == "health_plans_about"
    assert reads_another_portal("locked out of mychart and health plans", locked, DOMAIN) is None  # names both
    messages = run(AnswerInContext(), [], "i cant log in to system link", "login_forgot_password",
                   intent_ranking=read)
    assert [m["response"] for m in messages] == ["utter_system_link_login_problem"]


def test_a_correction_that_names_no_portal_asks_which():
    assert "Which portal did you mean" in said(run(AnswerCorrection(), answered("ce_transcript"), "no not that",
                                                   "correction"))


def test_after_a_correction_the_topic_is_the_portal_meant():
    history = answered("ce_transcript") + [
        {"event": "user", "text": "no, the learning center", "parse_data": {"intent": {"name": "correction"}}},
        {"event": "action", "name": "action_answer_correction"},
        {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_learning_center_transcript"}},
    ]
    tracker = Tracker("unit", {}, {}, history + [{"event": "user", "text": "which format?"}], False, None, {},
                      "action_listen")
    assert topic_intent(tracker) == "learning_center_transcript"


def test_two_questions_get_two_answers():
    messages = run(AnswerTwoQuestions(), [], "whats the deadline and which browsers", "two_questions",
                   questions=["system_link_deadline", "system_link_tech_requirements"])
    assert [m["response"] for m in messages] == ["utter_system_link_deadline", "utter_system_link_tech_requirements"]


def test_a_task_as_second_question_is_offered_not_started():
    messages = run(AnswerTwoQuestions(), [], "what is an access code and can you send me one", "two_questions",
                   questions=["mychart_access_code_about", "request_access_code"])
    assert messages[0]["response"] == "utter_mychart_access_code_about"
    assert messages[1]["buttons"] == [{"title": "Send me a new access code", "payload": "/request_access_code"}]


def test_a_site_request_in_two_questions_is_offered_with_how_to_do_it_yourself():
    messages = run(AnswerTwoQuestions(), [], "we need a system link site, also im locked out", "two_questions",
                   questions=["request_site", "lockout_locked_out"])
    assert "Request New Account" in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Start a site request", "payload": "/request_site"}]
    assert messages[1]["response"] == "utter_lockout_locked_out"


def test_a_follow_up_as_second_question_is_about_the_first():
    reply = said(run(AnswerTwoQuestions(), [], "how do i text for credit and how long do i have", "two_questions",
                     questions=["ce_text_for_credit", "followup_how_long"]))
    assert "utter_ce_text_for_credit" in reply and "24 hours" in reply


def test_two_questions_with_the_same_answer_get_it_once():
    messages = run(AnswerTwoQuestions(), [], "what even is mychart and whats it good for", "two_questions",
                   questions=["mychart_about", "followup_what_is_it"])
    assert [m["response"] for m in messages] == ["utter_mychart_about"]


def test_a_number_part_gives_every_line_named():
    reply = said(run(AnswerTwoQuestions(), [], "whats the number for mychart and also the one for the health plan portal",
                     "two_questions", questions=["ask_phone_number", "correction"]))
    assert phone("mychart") in reply and phone("health_plans") in reply


def ranking(*pairs) -> Dict:
    return {"intent_ranking": [{"name": name, "confidence": score} for name, score in pairs]}


def test_unclear_wording_is_read_in_the_light_of_the_topic():
    messages = run(AnswerInContext(), answered("learning_center_about"), "whats the pw the first time",
                   "nlu_fallback", **ranking(("nlu_fallback", 0.25), ("security_password_tips", 0.2),
                                             ("learning_center_login", 0.15)))
    assert [m["response"] for m in messages] == ["utter_learning_center_login"]


def test_unclear_wording_without_a_fitting_reading_asks_to_rephrase_then_offers_topics_and_a_person():
    history = answered("learning_center_about")
    reading = ranking(("nlu_fallback", 0.25), ("security_password_tips", 0.2))
    assert run(AnswerInContext(), history, "hmm", "nlu_fallback", **reading)[0]["response"] == "utter_ask_rephrase"
    history += [{"event": "user", "text": "hmm"}, {"event": "bot", "text": "...",
                                                    "metadata": {"utter_action": "utter_ask_rephrase"}}]
    message = {"text": "hm", "intent": {"name": "nlu_fallback", "confidence": 0.9}, **reading}
    tracker = Tracker("unit", {}, message, history + [{"event": "user", "text": "hm", "parse_data": message}],
                      False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(AnswerInContext().run(dispatcher, tracker, DOMAIN))
    assert dispatcher.messages == [] and events == [FollowupAction("action_offer_handoff")]  # actions/handoff.py


def test_an_unclear_correction_after_a_phone_number_gives_the_number_meant():
    """Frustration ("not what I meant") shares words with corrections: the model may be unsure between them."""
    history = [{"event": "user", "text": "phone for the health plans portal",
                "parse_data": {"intent": {"name": "ask_phone_number"}}},
               {"event": "action", "name": "action_give_support_number"}]
    reply = said(run(AnswerInContext(), history, "and that works for averachart as well?", "nlu_fallback",
                     **ranking(("nlu_fallback", 0.25), ("mychart_about", 0.24), ("correction", 0.22),
                               ("ask_phone_number", 0.18))))
    assert phone("mychart") in reply and phone("health_plans") not in reply


def test_and_for_a_portal_right_after_a_number_gives_that_portals_number():
    """"and for mychart?" has too few words for the model: the number question before it says what is meant."""
    history = [{"event": "user", "text": "health plans portal phone number",
                "parse_data": {"intent": {"name": "ask_phone_number"}}},
               {"event": "action", "name": "action_give_support_number"}]
    reply = said(run(AnswerInContext(), history, "and for mychart?", "nlu_fallback",
                     **ranking(("nlu_fallback", 0.25), ("mychart_about", 0.08))))
    assert phone("mychart") in reply and phone("health_plans") not in reply


def test_which_one_after_the_list_of_numbers_gives_the_line_named():
    history = [{"event": "user", "text": "list every support number", "parse_data": {"intent": {"name": "all_support_numbers"}}},
               {"event": "action", "name": "utter_all_support_numbers"}]
    reply = said(run(AnswerInContext(), history, "which one is for my work computer", "nlu_fallback",
                     **ranking(("nlu_fallback", 0.25), ("employee_network_password", 0.23))))
    assert phone("employee_it") in reply and phone("mychart") not in reply


def test_how_do_i_do_that_after_the_averachart_move_is_how_to_sign_up():
    """Also "so I don't need to do anything?": a new MyChart account is needed, and how to get one."""
    messages = run(AnswerFollowup(), answered("mychart_averachart_move"), "so there's nothing i have to do?",
                   "followup_how")
    assert len(messages) == 1
    assert "need to set up a new MyChart account" in messages[0]["text"]
    assert "access code" in messages[0]["text"] and phone("mychart") in messages[0]["text"]


def test_an_unclear_correction_after_an_answer_answers_for_the_portal_named():
    messages = run(AnswerInContext(), answered("ce_transcript"), "hmm what about in the learning center",
                   "nlu_fallback", **ranking(("nlu_fallback", 0.25), ("correction", 0.2)))
    assert [m["response"] for m in messages] == ["utter_learning_center_transcript"]


def test_gibberish_is_never_answered_from_the_topic():
    messages = run(AnswerInContext(), answered("learning_center_about"), "blorf zanthic", "nlu_fallback",
                   **ranking(("nlu_fallback", 0.0), ("learning_center_login", 0.3)))
    assert messages[0]["response"] == "utter_ask_rephrase"


@pytest.mark.parametrize("text,parts", [
    ("whats the deadline for system link and what browsers does it support",
     ["whats the deadline for system link", "what browsers does it support"]),
    ("how do i reset my password. how long is the link good for",
     ["how do i reset my password", "how long is the link good for"]),
    ("can i see my daughter's chart? she's 15", []),
    ("how many admins do we need, what do they do", ["how many admins do we need", "what do they do"]),
    ("if it's locked, what do i do", []),
    ("i forgot my password and username", []),
    ("hi, how do i sign up for mychart?", []),
])
def test_a_message_is_split_only_at_a_second_question(text, parts):
    assert split_questions(text) == parts


@pytest.mark.parametrize("second,intents,leans", [
    ("can i do it on the computer", ["portal_appointments", "system_link_tech_requirements"], True),
    ("what can he do with it", ["teen_own_account", "ask_capabilities"], True),
    ("what browsers does it support", ["system_link_deadline", "system_link_tech_requirements"], False),
    ("how long does that take", ["request_site", "followup_how_long"], False),
    ("is that the same for the CE portal", ["learning_center_transcript", "ce_transcript"], False),
    ("whats proxy access", ["teen_own_account", "proxy_access"], False),
])
def test_a_second_part_pointing_back_at_the_first_is_no_question_of_its_own(second, intents, leans):
    assert TwoQuestions._second_leans_on_first(second, intents) is leans


def test_the_table_names_only_known_intents_kinds_and_responses():
    intents = set(DOMAIN["intents"])
    responses = set(DOMAIN["responses"])
    assert set(TABLE["kinds"]) == {i for i in intents if i.startswith("followup_")}
    topics = intents | {verdict_topic(verdict) for verdict in VERDICTS}  # the record-access check's verdicts
    for about, kinds in TABLE["answers"].items():
        assert about in topics, about
        for kind, answer in kinds.items():
            assert kind in TABLE["kinds"], (about, kind)
            assert "text" in answer or answer["response"] in responses, (about, kind)
    for group in TABLE["same_question"]:
        assert all(f"utter_{intent}" in responses for intent in group), group
    assert all(f"utter_{intent}" in responses for intent in TABLE["every_portal"])
    assert all(f"utter_{portal['about']}" in responses for portal in TABLE["portals"].values())


@pytest.mark.parametrize("about", sorted(TABLE["answers"]))
def test_every_table_answer_can_be_given(about):
    for kind in TABLE["answers"][about]:
        answer = answer_to_followup(kind, about)
        assert answer.get("text") or answer.get("response")
        assert "{" not in (answer.get("text") or "")


def test_a_status_question_is_answered_before_the_reference_is_asked_and_a_follow_up_during_it_too():
    """"Has our site been approved?": how review works first; "how long does that take?" then gets the approval time."""
    question = {"event": "user", "text": "has our site been approved yet?",
                "parse_data": {"intent": {"name": "check_site_request_status"}}}
    form = {"name": "site_request_status_form"}
    opening = Tracker("unit", {"requested_slot": None}, question["parse_data"] | {"text": question["text"]},
                      [question], False, None, form, "site_request_status_form")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateSiteRequestStatusForm().run(dispatcher, opening, DOMAIN))
    reply = said(dispatcher.messages)
    assert reply.index("few weeks") < reply.index("reference") and "e-mail" in reply
    assert any(e.get("name") == "requested_slot" and e.get("value") == "site_request_reference" for e in events)

    follow_up = {"text": "how long does that take?", "intent": {"name": "followup_how_long", "confidence": 0.9}}
    history = [question, {"event": "action", "name": "site_request_status_form"},
               {"event": "user", "text": follow_up["text"], "parse_data": follow_up}]
    during = Tracker("unit", {"requested_slot": "site_request_reference"}, follow_up, history, False, None, form,
                     "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ValidateSiteRequestStatusForm().run(dispatcher, during, DOMAIN))
    reply = said(dispatcher.messages)
    assert "few weeks" in reply and "reference" in reply and "doesn't look like" not in reply
    assert "How a site request goes" not in reply  # the explanation is not repeated

    # "I don't have one" is a statement, but no reference either: what to do without it, then the question again.
    statement = {"text": "i don't have a reference, we used the website",
                 "intent": {"name": "followup_dont_have", "confidence": 0.9}}
    during = Tracker("unit", {"requested_slot": "site_request_reference"}, statement,
                     history[:2] + [{"event": "user", "text": statement["text"], "parse_data": statement}],
                     False, None, form, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ValidateSiteRequestStatusForm().run(dispatcher, during, DOMAIN))
    reply = said(dispatcher.messages)
    assert "noreply@systemlink" in reply and "doesn't look like" not in reply and "SR-" in reply


@pytest.mark.parametrize("about,text,intent,says,not_says", [
    ("system_link_tech_requirements", "and chrome?", "nlu_fallback", "Chrome 118", "1024x768"),
    ("system_link_roles", "and biller?", "followup_device", "Biller: a new biller", "Requester"),
    ("learning_center_login", "and the password?", "nlu_fallback", '"hello"', "mmddyyyy"),
    ("portal_prescription_renewal", "does it show when i last filled it", "followup_how_long", "last fill date",
     "hover"),
])
def test_a_short_and_x_is_answered_from_the_lines_of_the_last_answer_that_name_x(about, text, intent, says, not_says):
    action = AnswerFollowup() if intent.startswith("followup_") else AnswerInContext()
    reply = said(run(action, answered(about), text, intent, **ranking((intent, 0.3))))
    assert says in reply and not_says not in reply and "don't say" not in reply


def test_a_reading_on_the_topic_comes_before_the_lines_of_the_last_answer():
    """"and for a provider?" after the members' answer asks what providers do, not the line naming a provider."""
    messages = run(AnswerInContext(), answered("health_plans_members"), "and for a provider?", "nlu_fallback",
                   **ranking(("nlu_fallback", 0.25), ("health_plans_providers_employers", 0.2)))
    assert [m.get("response") for m in messages] == ["utter_health_plans_providers_employers"]


def test_a_detail_the_last_answer_does_not_name_is_not_answered_from_it():
    reply = said(run(AnswerFollowup(), answered("proxy_access"), "is there a fee?", "followup_cost"))
    assert "don't say" in reply and phone("mychart") in reply
    reply = said(run(AnswerFollowup(), answered("portal_prescription_renewal"), "does it show the pharmacy hours",
                     "followup_how_long"))
    assert "don't say" in reply and "last fill" not in reply


def test_a_portal_named_unclearly_after_the_list_of_numbers_gets_that_portals_number():
    history = [{"event": "user", "text": "what are the support numbers",
                "parse_data": {"intent": {"name": "all_support_numbers"}}},
               {"event": "action", "name": "action_give_support_number"}]
    reply = said(run(AnswerInContext(), history, "the CE one?", "nlu_fallback", **ranking(("nlu_fallback", 0.3))))
    assert phone("learning_center_ce") in reply and phone("mychart") not in reply


def test_what_is_it_after_a_detail_gives_what_the_portal_is():
    messages = run(AnswerFollowup(), answered("system_link_approval_time"), "what is it exactly", "followup_what_is_it")
    assert [m.get("response") for m in messages] == ["utter_system_link_about"]


def test_an_unclear_message_in_a_conversation_about_a_portal_gets_that_portals_number_after_the_rephrase():
    reply = run(AnswerInContext(), answered("ce_certificates"), "i did the evaluation already", "nlu_fallback",
                **ranking(("nlu_fallback", 0.25), ("security_password_tips", 0.08)))
    assert reply[0]["response"] == "utter_ask_rephrase" and phone("learning_center_ce") in said(reply[1:])


def test_a_detail_of_the_last_answer_keeps_its_topic_for_the_next_follow_up():
    history = answered("learning_center_login")
    text = "and the password?"
    messages = run(AnswerInContext(), history, text, "login_forgot_password",
                   **ranking(("login_forgot_password", 0.35), ("security_password_tips", 0.33)))
    assert "hello" in said(messages)
    history += [{"event": "user", "text": text, "parse_data": {"intent": {"name": "login_forgot_password"}}},
                {"event": "bot", "text": messages[0]["text"], "metadata": {"utter_action": messages[0]["utter_action"]}}]
    reply = said(run(AnswerFollowup(), history, "do I have to change that", "followup_how"))
    assert "must change" in reply and "MyChart" not in reply


@pytest.mark.parametrize("text,intent,ranked", [
    ("k. and my pasword, same one?", "nlu_fallback", [("nlu_fallback", 0.25), ("security_password_tips", 0.24)]),
    ("ugh ok. and my passwrd?", "acknowledge", [("acknowledge", 0.32), ("security_password_tips", 0.12)]),
    ("hmm and my username", "login_forgot_username", [("login_forgot_username", 0.61)]),
])
def test_and_my_password_after_the_averachart_move_is_answered_from_the_move(text, intent, ranked):
    """Mistyped, after filler, or read as another MyChart question: the move answer already says it."""
    reply = said(run(AnswerInContext(), answered("mychart_averachart_move"), text, intent, **ranking(*ranked)))
    assert "won't work in MyChart" in reply and "strong password" not in reply and "Forgot" not in reply


def test_what_is_a_word_of_the_last_answer_repeats_its_line():
    reply = said(run(AnswerFollowup(), answered("login_reset_loop"), "what is incognito", "followup_what_is_it"))
    assert "Incognito or Private window" in reply and "utter_mychart_about" not in reply


def test_a_message_the_classifier_is_sure_of_stays_one_question_when_its_first_part_asks_the_same():
    from bot.nlu.two_questions import TwoQuestions
    from rasa.shared.nlu.training_data.message import Message

    class Parts:  # the parts' model: the move, then messaging
        classes_ = ["mychart_averachart_move", "portal_messaging"]

        @staticmethod
        def predict_proba(parts):
            import numpy
            return numpy.array([[0.9, 0.1], [0.1, 0.9]])

    component = TwoQuestions({**TwoQuestions.get_default_config()}, None, None, Parts())
    text = "averachart is going away i heard. what happens to my old messages"
    sure = Message({"text": text, "intent": {"name": "mychart_averachart_move", "confidence": 0.99}})
    unsure = Message({"text": text, "intent": {"name": "mychart_averachart_move", "confidence": 0.6}})
    component.process([sure, unsure])
    assert sure.get("intent")["name"] == "mychart_averachart_move"
    assert unsure.get("intent")["name"] == "two_questions"


def test_a_sure_second_part_about_another_line_is_a_question_of_its_own():
    from bot.nlu.two_questions import TwoQuestions
    from rasa.shared.nlu.training_data.message import Message

    class Parts:  # the parts' model: approval time, then the number, both sure
        classes_ = ["system_link_approval_time", "ask_phone_number"]

        @staticmethod
        def predict_proba(parts):
            import numpy
            return numpy.array([[0.99, 0.01], [0.01, 0.99]])

    component = TwoQuestions({**TwoQuestions.get_default_config()}, None, None, Parts())
    message = Message({"text": "how long does site approval take, and whats the health plans phone number",
                       "intent": {"name": "system_link_approval_time", "confidence": 0.99}})
    component.process([message])
    assert message.get("intent")["name"] == "two_questions"
    assert message.get("questions") == ["system_link_approval_time", "ask_phone_number"]

    # "... is there a way to find it?": a sure follow-up that names no line of its own only elaborates.
    Parts.classes_ = ["system_link_approval_time", "followup_how"]
    message = Message({"text": "how long does site approval take. is there a way to speed it up",
                       "intent": {"name": "system_link_approval_time", "confidence": 0.99}})
    component.process([message])
    assert message.get("intent")["name"] == "system_link_approval_time"


def test_a_message_taken_for_two_questions_that_does_not_split_gets_the_parts_models_reading():
    from bot.nlu.two_questions import TwoQuestions
    from rasa.shared.nlu.training_data.message import Message

    class Parts:
        classes_ = ["system_link_tech_requirements", "system_link_about"]

        @staticmethod
        def predict_proba(parts):
            import numpy
            return numpy.array([[0.6, 0.4] for _ in parts])

    component = TwoQuestions({**TwoQuestions.get_default_config()}, None, None, Parts())
    message = Message({"text": "also unrelated, what browsers work for system link",
                       "intent": {"name": "two_questions", "confidence": 0.9},
                       "intent_ranking": [{"name": "two_questions", "confidence": 0.9},
                                          {"name": "system_link_about", "confidence": 0.05}]})
    component.process([message])
    assert message.get("intent") == {"name": "system_link_tech_requirements", "confidence": 0.6}
    assert [r["name"] for r in message.get("intent_ranking")] == ["system_link_tech_requirements", "system_link_about"]


class _StubModel:
    """Reads every question as a number question, for the courtesy tests."""
    classes_ = ["ask_phone_number", "thank"]

    @staticmethod
    def predict_proba(texts):
        import numpy
        return numpy.array([[0.9, 0.1] for _ in texts])


@pytest.mark.parametrize("text,intent", [
    ("Thank you. Whom should I telephone?", "ask_phone_number"),
    ("ok thanks, and who do i call", "ask_phone_number"),
    ("ok thanks", None),
    ("thank you so much for your help", None),
    ("great, that is all", None),
])
def test_a_question_after_a_courtesy_is_the_question(text, intent):
    component = TwoQuestions(TwoQuestions.get_default_config(), None, None, _StubModel())
    found = component.question_after_courtesy(text)
    assert (found or {}).get("name") == intent


@pytest.mark.parametrize("action,text,intent", [
    (AnswerFollowup(), "wait what", "followup_what_is_it"),
    (AnswerFollowup(), "huh?", "followup_what_is_it"),
    (AnswerInContext(), "what do you mean", "nlu_fallback"),
])
def test_wait_what_after_an_answer_gives_that_answer_again(action, text, intent):
    messages = run(action, answered("login_forgot_password"), text, intent,
                   **ranking((intent, 0.9)))
    assert "Here it is again" in said(messages)
    assert messages[-1]["response"] == "utter_login_forgot_password"


@pytest.mark.parametrize("action,intent", [(AnswerFollowup(), "followup_confirm"), (AnswerInContext(), "nlu_fallback")])
def test_so_its_gone_gets_what_the_documents_say_again_not_a_yes_or_no(action, intent):
    messages = run(action, answered("ce_certificates"), "so its gone?", intent,
                   **ranking((intent, 0.6), ("followup_confirm", 0.3)))
    assert "what my documents say" in said(messages)
    assert messages[-1]["response"] == "utter_ce_certificates"


def test_what_is_it_is_still_what_the_portal_is():
    messages = run(AnswerFollowup(), answered("login_forgot_password"), "what is that", "followup_what_is_it")
    assert [m.get("response") for m in messages] == ["utter_mychart_about"]


def test_a_follow_up_asked_first_is_about_what_it_names():
    messages = run(AnswerFollowup(), [], "proxy access, what is that", "followup_what_is_it",
                   **ranking(("followup_what_is_it", 0.6), ("proxy_access", 0.3)))
    assert [m.get("response") for m in messages] == ["utter_proxy_access"]
    reply = said(run(AnswerFollowup(), [], "how long does proxy access take", "followup_how_long",
                     **ranking(("followup_how_long", 0.6), ("proxy_access", 0.3))))
    assert "don't say how long" in reply and phone("mychart") in reply
    assert "Which portal" in said(run(AnswerFollowup(), [], "how long does that take", "followup_how_long",
                                      **ranking(("followup_how_long", 0.9), ("ce_certificates", 0.05))))



def test_the_portal_named_after_an_answer_about_it_confirms_that_answer():
    messages = run(AnswerCorrection(), answered("login_forgot_password"), "mychart, what else would it be",
                   "mychart_about")
    assert messages[-1]["response"] == "utter_login_forgot_password"


def test_a_follow_up_naming_a_detail_of_the_topic_gets_the_entrys_answer_for_it():
    lock = answer_to_followup("followup_how_long", "lockout_locked_out", "how long does it last")["text"]
    link = answer_to_followup("followup_how_long", "lockout_locked_out", "how long is that link good for")["text"]
    assert "temporary" in lock and "30 minutes" not in lock  # the lock's length is not in the documents
    assert "30 minutes" in link


def test_a_follow_up_asked_first_that_names_a_portal_is_answered_about_it():
    reply = said(run(AnswerFollowup(), [], "do i have to pay for a new mychart access code", "followup_cost",
                     **ranking(("followup_cost", 0.93), ("mychart_signup", 0.02))))
    assert "don't say whether it costs anything" in reply and "855-667-9704" in reply
    reply = said(run(AnswerFollowup(), [], "how long does mychart signup take", "followup_how_long",
                     **ranking(("followup_how_long", 0.6), ("mychart_signup", 0.3))))
    assert "couple of steps" in reply
