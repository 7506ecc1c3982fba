"""Each speed-up of bot/rasa_server.py gives what Rasa's own code gives.

The end-to-end tests run every conversation through the patched server; these
compare the patched parts with Rasa's directly, on the trained model (the
conversations here need no action server).
"""
import asyncio
import copy

import jsonschema
import pytest
import rasa.core.processor
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

from bot import rasa_server
from bot.cli import model_path

MESSAGES = [
    "hi", "how do I sign up for MyChart?", "my account is locked", "which number do I call?",
    "can my 16 year old son have his own account", "my SSN is 123-45-6789", "asdkjh qwelkj",
    "what browsers does System Link support", "I need a new access code", "thanks, bye",
]
CONVERSATIONS = [
    ["hello", "how do I get CE credit for a conference", "how long can I download the certificate", "thanks"],
    ["I got locked out of MyChart", "how long does it last?", "what about my password, I forgot it"],
    ["what roles are there in System Link", "who needs to be the site administrator", "bye"],
]


def without_random_fields(value):
    """An event as a dict, without what differs from run to run (times, ids, the model id)."""
    if isinstance(value, dict):
        return {k: without_random_fields(v) for k, v in value.items()
                if k not in ("timestamp", "metadata", "message_id")}
    return value


@pytest.fixture(scope="module")
def agents():
    """The trained model loaded twice: with Rasa's own code, and with the speed-ups."""
    stock = Agent.load(str(model_path()))
    saved = (RemoteAction._validate_action_result, LogisticRegressionClassifier.load,
             rasa.core.processor.DaskGraphRunner)
    rasa_server.apply()
    try:
        fast = Agent.load(str(model_path()))
    finally:
        (RemoteAction._validate_action_result, LogisticRegressionClassifier.load,
         rasa.core.processor.DaskGraphRunner) = saved
    return stock, fast


def test_the_fast_agent_really_uses_the_speed_ups(agents):
    stock, fast = agents
    assert type(stock.processor.graph_runner) is DaskGraphRunner
    assert type(fast.processor.graph_runner) is rasa_server.SequentialGraphRunner
    classifiers = [node._component for node in fast.processor.graph_runner._instantiated_nodes.values()
                   if isinstance(node._component, LogisticRegressionClassifier)]
    assert classifiers and all(c.clf.coef_.T.flags["C_CONTIGUOUS"] for c in classifiers)


def test_every_message_is_understood_the_same(agents):
    stock, fast = agents

    async def parse_all(agent):
        return [await agent.parse_message(text) for text in MESSAGES]

    for ours, theirs in zip(asyncio.run(parse_all(fast)), asyncio.run(parse_all(stock))):
        assert ours["intent"] == theirs["intent"]
        assert ours["intent_ranking"] == theirs["intent_ranking"]
        assert ours["entities"] == theirs["entities"]


def test_every_conversation_gets_the_same_replies_and_events(agents):
    stock, fast = agents

    async def converse(agent, sender):
        replies = []
        for text in CONVERSATIONS[sender]:
            replies.append(await agent.handle_text(text, sender_id=f"c{sender}"))
        tracker = await agent.tracker_store.retrieve(f"c{sender}")
        return replies, [without_random_fields(event.as_dict()) for event in tracker.events]

    for sender in range(len(CONVERSATIONS)):
        ours, theirs = asyncio.run(converse(fast, sender)), asyncio.run(converse(stock, sender))
        assert ours == theirs
        assert any(reply for reply in ours[0])


@pytest.mark.parametrize("response", [
    {"events": [{"event": "slot", "name": "email", "value": "a@example.org"}], "responses": [{"text": "ok"}]},
    {"events": [], "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": "slot"}], "responses": "not a list"},
    {"events": "not a list"},
])
def test_action_server_responses_are_judged_as_rasa_judges_them(response):
    action = RemoteAction("action_x", None)

    def verdict(validate):
        try:
            return validate(action, copy.deepcopy(response))
        except jsonschema.ValidationError as error:
            return error.message

    ours = verdict(rasa_server.validate_action_result)
    assert ours == verdict(RemoteAction._validate_action_result)
    if not isinstance(response.get("responses", []), list) or not isinstance(response.get("events"), list):
        assert "Failed to validate Action server response" in ours

