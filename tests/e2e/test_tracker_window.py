"""Reading only a conversation's state and its recent turns changes no answer.

The help desk's Rasa (bot/tracker_store.py, 8 user turns in full) and a
second Rasa server on Rasa's own SQLTrackerStore (every event read back),
sharing the action server and backend, get the same long conversation:
FAQ questions, follow-ups that depend on earlier turns, and a form that is
interrupted and resumed well past the window. Every reply must be the same.
"""
import pytest

from bot.cli import free_port, model_path, rasa_service, write_endpoints
from tests.e2e.conftest import Chat

FAQ = ["how do I sign up for MyChart?", "which number do I call?", "what user roles are there in System Link?",
       "what's my user ID for the Learning Center?", "which number do I call?", "thank you",
       "where do Avera Health Plans members log in?", "which number do I call?"]
FORM = ["I need a new access code for MyChart", "Pat Nobody", "why do you need that?", "01/01/1970",
        "pat.nobody@example.org", "yes"]


@pytest.fixture
def rasa_store_server(stack, tmp_path):
    endpoints = write_endpoints(tmp_path / "endpoints.yml", f"{stack.actions_url}/webhook", tmp_path / "rasa.db",
                                tracker_store={"type": "SQL", "dialect": "sqlite"})
    server = rasa_service(model_path(), free_port(), endpoints, stack.env, tmp_path / "rasa.log")
    server.start()
    try:
        server.wait_healthy(180)
        yield server
    finally:
        server.stop()


def test_a_long_conversation_gets_the_same_replies_as_with_rasas_store(stack, rasa_store_server):
    ours, rasas = Chat(stack), Chat(stack)
    rasas.url = rasa_store_server.health_url.split("/status")[0] + "/webhooks/rest/webhook"
    conversation = FAQ * 3 + FORM[:3] + FAQ + FORM[3:] + FAQ
    differences = []
    for turn, message in enumerate(conversation, start=1):
        mine, theirs = ours.say(message), rasas.say(message)
        if mine != theirs:
            differences.append((turn, message, mine, theirs))
    assert not differences
