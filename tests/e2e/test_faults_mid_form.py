"""A process of the help desk dies in the middle of a form: the member hears so, and the form resumes.

The backend or the action server is killed with SIGKILL (as a crash or an
out-of-memory kill would) while a member is in a form, then started again.
The member is told it could not be done right now, with where to turn, and
afterwards goes on where they were: nothing they already gave is asked again.
"""
import os
import re
import signal
import uuid

import pytest

from bot.cli import Service
from bot.facts import facts
from tests.e2e.conftest import MYCHART_PHONE, Chat, outbox
from tests.e2e.test_flows import SENT, site_request_answers

CONFIRMATION = re.compile(r"should i send a new mychart access code", re.I)
NOT_RIGHT_NOW = re.compile(r"can't do that right now because our system isn't responding", re.I)
ASKED_AGAIN = re.compile(r"first and last name|date of birth\?|e-mail or mobile phone number is on", re.I)


def kill(service: Service) -> None:
    os.killpg(service.process.pid, signal.SIGKILL)
    service.process.wait()


def start_again(service: Service) -> None:
    service.start()
    service.wait_healthy(timeout=120)


@pytest.fixture
def backend_service(stack):
    service = stack.services[0]
    yield service
    if service.process.poll() is not None:  # the test failed while the backend was down
        start_again(service)


@pytest.fixture
def action_server(stack):
    service = stack.services[1]
    yield service
    if service.process.poll() is not None:
        start_again(service)


def test_backend_killed_at_the_access_code_confirmation_then_the_form_resumes(chat, new_patient, backend,
                                                                             backend_service):
    patient = new_patient()
    chat.say("send me a new mychart access code")
    chat.say(f"{patient['first_name']} {patient['last_name']}")
    chat.say(patient["date_of_birth"])
    assert CONFIRMATION.search(chat.say(patient["email"]))
    kill(backend_service)

    reply = chat.say("yes")
    assert NOT_RIGHT_NOW.search(reply) and MYCHART_PHONE in reply, reply
    assert CONFIRMATION.search(reply) and patient["email"] in reply  # back at the confirmation, answers kept
    reply = chat.say("try again")  # still down: the same, nothing lost
    assert NOT_RIGHT_NOW.search(reply) and CONFIRMATION.search(reply), reply
    reply = chat.say("is mychart support open at night?")  # a side question in between is still answered
    assert facts()["phone_numbers"]["mychart"]["hours"] in reply and CONFIRMATION.search(reply), reply

    start_again(backend_service)
    reply = chat.say("try again")
    assert SENT.search(reply) and not ASKED_AGAIN.search(reply), reply
    assert len(outbox(backend, patient["email"])) == 1


def test_backend_killed_at_the_site_request_confirmation_then_the_form_resumes(chat, backend, backend_service):
    uid = uuid.uuid4().hex[:6]
    facility = f"Riverbend Clinic {uid}"
    answers = site_request_answers(facility, f"morgan.{uid}@example.org")
    reply = chat.say("our clinic needs a new avera system link site")
    for expected, answer in answers[:-1]:
        assert expected in reply.lower(), (expected, reply)
        reply = chat.say(answer)
    assert "submit this site request" in reply.lower()
    kill(backend_service)

    reply = chat.say("yes")
    assert re.search(r"couldn't reach our system", reply) and "AveraSystemLink.org" in reply, reply
    assert re.search(r"shall i submit this site request", reply, re.I) and facility in reply, reply

    start_again(backend_service)
    reply = chat.say("try again")
    reference = re.search(r"SR-[A-Z0-9]+", reply)
    assert reference and not re.search(r"name of your facility|street address", reply, re.I), reply
    status, body = backend("GET", f"/site-requests/{reference.group(0)}")
    assert status == 200 and body["facility"] == facility


def test_action_server_killed_mid_form_then_the_form_resumes(stack, chat, new_patient, backend, action_server):
    patient = new_patient()
    chat.say("send me a new mychart access code")
    chat.say(f"{patient['first_name']} {patient['last_name']}")
    reply = chat.say(patient["date_of_birth"])
    assert re.search(r"e-mail or mobile phone", reply, re.I)
    kill(action_server)

    reply = chat.say(patient["email"])
    assert NOT_RIGHT_NOW.search(reply) and MYCHART_PHONE in reply, reply

    start_again(action_server)
    reply = chat.say(patient["email"])  # asked again: it could not be checked
    assert CONFIRMATION.search(reply) and patient["email"] in reply, reply
    assert not re.search(r"yes or no", reply, re.I), reply  # the e-mail was not taken for the next answer
    assert SENT.search(chat.say("yes"))
    assert len(outbox(backend, patient["email"])) == 1
