"""Conversations over the REST channel with the real stack: what a member sees."""
import re
import urllib.request

from bot.rasa_api import auth_headers
from tests.e2e.conftest import CE_PHONE, EMERGENCY, FACTS, MYCHART_PHONE, Chat

PHONE = re.compile(r"\d{3}-\d{3}-\d{4}")


def tracker_json(stack, sender: str) -> str:
    request = urllib.request.Request(f"{stack.rasa_url}/conversations/{sender}/tracker",
                                     headers=auth_headers(stack.env["RASA_TOKEN"]))
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.read().decode()


def test_greeting_and_what_it_can_do(chat):
    assert chat.say("hi there")
    reply = chat.say("what can you help me with?")
    assert re.search(r"mychart", reply, re.I) and re.search(r"system link", reply, re.I)


def test_emergency_comes_first(chat):
    reply = chat.say("my husband collapsed and is not breathing")
    assert reply.lstrip().lower().startswith(f"if this is a medical emergency, call {EMERGENCY}")


def test_emergency_in_the_middle_of_a_form(chat):
    chat.say("please send me a new mychart access code")
    reply = chat.say("i have crushing chest pain right now")
    assert EMERGENCY in reply


def test_a_typed_password_is_neither_repeated_nor_stored(stack, chat):
    reply = chat.say("my password is Sunny2024! why cant i log in")
    assert "Sunny2024" not in reply
    assert re.search(r"don't share|do not share", reply, re.I)
    assert "Sunny2024" not in tracker_json(stack, chat.sender)


def test_an_ssn_is_neither_repeated_nor_stored(stack, chat):
    reply = chat.say("my social is 123-45-6789 can you look me up")
    assert "6789" not in reply
    assert "123-45-6789" not in tracker_json(stack, chat.sender)


def test_which_number_depends_on_the_conversation(stack):
    ce = Chat(stack)
    ce.say("how do I get CE credit by texting a code?")
    assert CE_PHONE in ce.say("which number do I call?")

    lockout = Chat(stack)
    lockout.say("my mychart account got locked after too many tries")
    lockout.say("no")
    assert MYCHART_PHONE in lockout.say("what number should i call")


def test_out_of_scope_is_redirected_without_a_phone_number(chat):
    reply = chat.say("who won the football game last night?")
    assert not PHONE.search(reply)
    assert re.search(r"mychart|portal", reply, re.I)


def test_gibberish_twice_offers_topics_and_a_person(chat):
    first = chat.say("blorf zanthic quib")
    assert re.search(r"rephrase", first, re.I)
    second = chat.say("wuzzle frobnic tarp")
    assert "MyChart sign-up" in second and "855-667-9704" in second
    assert re.search(r"connect you with a person|leave a message for the next agent", second), second


def test_gibberish_with_a_please_is_not_taken_for_a_yes(chat):
    reply = chat.say("wuzzle frobnic tarp please")
    assert re.search(r"rephrase", reply, re.I), reply
    assert not re.search(r"anything else", reply, re.I), reply


def test_typos_are_read_as_the_words_meant(stack):
    """A mistyped word the model never saw is read as the training data's word (bot.nlu.spelling)."""
    for typed, answer in [  # each one is "please rephrase" without the corrector
        ("perscription refil plz", r"renew"),
        ("chekc patient eligiblity", r"eligibility"),
        ("acess cod expird", r"access code"),
        ("brwoser requirments", r"chrome|edge|firefox|safari"),
    ]:
        reply = Chat(stack).say(typed)
        assert re.search(answer, reply, re.I), (typed, reply)


def test_record_access_check_asks_only_what_it_needs(chat):
    reply = chat.say("can i see my son's medical record?")
    assert re.search(r"how old", reply, re.I)
    reply = chat.say("he is 16")
    assert re.search(r"emancipated", reply, re.I)
    reply = chat.say("no")
    assert re.search(r"by law", reply, re.I) and f"{FACTS['teen_access']['min_age']}-{FACTS['teen_access']['max_age']}" in reply


def test_record_access_for_an_emancipated_teen_in_one_message(chat):
    reply = chat.say("my 17 year old daughter is emancipated, can I still see her records")
    assert re.search(r"not allowed", reply, re.I)


def test_record_access_for_an_elderly_parent_is_proxy_access(chat):
    reply = chat.say("how can I get access to my elderly mother's mychart record")
    assert re.search(r"proxy", reply, re.I)


def test_restarting_rasa_keeps_the_conversation(stack, chat):
    chat.say("i need a new mychart access code")
    chat.say("Robin Vale")
    rasa = stack.services[-1]
    rasa.stop()
    rasa.start()
    rasa.wait_healthy(timeout=180)
    reply = chat.say("4/5/1990")
    assert re.search(r"e-mail or mobile phone", reply, re.I)


def test_no_personal_data_in_any_log(stack, chat, new_patient):
    patient = new_patient(first_name="Zebulon")
    chat.say("please send me a new mychart access code")
    chat.say(f"Zebulon {patient['last_name']}")
    chat.say("02/29/1984")
    chat.say(patient["email"])
    chat.say("yes")
    chat.say("my password is Sunny2024!")
    logs = "".join(service.log_path.read_text(errors="replace") for service in stack.services)
    for personal in ("Zebulon", patient["last_name"], patient["email"], "1984-02-29", "02/29/1984", "Sunny2024"):
        assert personal not in logs
