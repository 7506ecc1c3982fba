"""Each speed-up of bot/rasa_server.py gives what Rasa's own code gives.

The end-to-end tests run every conversation through the patched server; these
compare the patched parts with Rasa's directly, on the trained model (the
conversations here need no action server).
"""
import asyncio
import contextlib
import copy

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.core.policies.rule_policy import RulePolicy
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

from bot import rasa_server
from bot.cli import model_path

MESSAGES = [
    "hi", "how do I sign up for MyChart?", "my account is locked", "which number do I call?",
    "can my 16 year old son have his own account", "my SSN is 123-45-6789", "asdkjh qwelkj",
    "what browsers does System Link support", "I need a new access code", "thanks, bye",
]
RULE_KEYS_BY_RASA = RulePolicy._get_possible_keys
CONVERSATIONS = [
    ["hello", "how do I get CE credit for a conference", "how long can I download the certificate", "thanks"],
    # ("how long does it last?" would be a follow-up, answered by an action: see tests/unit/test_followups.py)
    ["I got locked out of MyChart", "how many tries do i get before it locks", "what about my password, I forgot it"],
    ["what roles are there in System Link", "who needs to be the site administrator", "bye"],
]
# Offers answered yes or no: rules that look further back than the last state.
OFFERS = [["I forgot my password", "no"], ["I'm locked out of MyChart", "no thanks"], ["I forgot my password", "yes"]]


def without_random_fields(value):
    """An event as a dict, without what differs from run to run (times, ids, the model id)."""
    if isinstance(value, dict):
        return {k: without_random_fields(v) for k, v in value.items()
                if k not in ("timestamp", "metadata", "message_id")}
    return value


ORIGINALS = [(owner, name, vars(owner)[name]) for owner, name, _ in rasa_server.SPEED_UPS]


@contextlib.contextmanager
def speed_ups_installed():
    """The speed-ups while the block runs, Rasa's own code again after it."""
    rasa_server.apply()
    try:
        yield
    finally:
        for owner, name, original in ORIGINALS:
            setattr(owner, name, original)


@pytest.fixture(scope="module")
def agents():
    """The trained model loaded twice: with Rasa's own code, and with the speed-ups."""
    stock = Agent.load(str(model_path()))
    with speed_ups_installed():
        fast = Agent.load(str(model_path()))
    return stock, fast


def test_the_fast_agent_really_uses_the_speed_ups(agents):
    stock, fast = agents
    assert type(stock.processor.graph_runner) is DaskGraphRunner
    assert type(fast.processor.graph_runner) is rasa_server.SequentialGraphRunner
    classifiers = [node._component for node in fast.processor.graph_runner._instantiated_nodes.values()
                   if isinstance(node._component, LogisticRegressionClassifier)]
    assert classifiers, "config.yml has no LogisticRegressionClassifier: drop its speed-ups from bot/rasa_server.py"
    assert all(c.clf.coef_.T.flags["C_CONTIGUOUS"] for c in classifiers)


def test_every_message_is_understood_the_same(agents):
    stock, fast = agents

    async def parse_all(agent):
        return [await agent.parse_message(text) for text in MESSAGES]

    with speed_ups_installed():
        parsed_by_fast = asyncio.run(parse_all(fast))
    for ours, theirs in zip(parsed_by_fast, asyncio.run(parse_all(stock))):
        assert ours["intent"] == theirs["intent"]
        assert ours["intent_ranking"] == theirs["intent_ranking"]
        assert ours["entities"] == theirs["entities"]


async def converse(agent, sender_id, texts):
    replies = [await agent.handle_text(text, sender_id=sender_id) for text in texts]
    return replies, await agent.tracker_store.retrieve(sender_id)


def test_every_conversation_gets_the_same_replies_and_events(agents):
    stock, fast = agents
    for number, texts in enumerate(CONVERSATIONS):
        with speed_ups_installed():
            ours = asyncio.run(converse(fast, f"same-{number}", texts))
        theirs = asyncio.run(converse(stock, f"same-{number}", texts))
        assert ours[0] == theirs[0]
        assert all(ours[0])  # every turn was answered
        assert ([without_random_fields(event.as_dict()) for event in ours[1].events]
                == [without_random_fields(event.as_dict()) for event in theirs[1].events])


def test_the_same_rules_apply_at_every_point_of_every_conversation(agents):
    """Rasa's rule search against the remembered one, on every prefix of real conversations, twice."""
    stock, fast = agents
    policies = [node._component for node in stock.processor.graph_runner._instantiated_nodes.values()
                if isinstance(node._component, RulePolicy)]
    assert policies, "config.yml has no RulePolicy: drop its speed-up from bot/rasa_server.py"
    policy = policies[0]
    domain = stock.domain
    checked = 0
    for _ in range(2):  # the second round answers from the memo
        for number, texts in enumerate(CONVERSATIONS + OFFERS):
            _, tracker = asyncio.run(converse(stock, f"rules-{number}", texts))
            states = policy._prediction_states(tracker, domain)
            for end in range(1, len(states) + 1):
                for lookup in policy.lookup.values():
                    if isinstance(lookup, dict) and lookup:
                        ours = rasa_server.possible_rule_keys(policy, lookup, states[:end])
                        assert ours == RULE_KEYS_BY_RASA(policy, lookup, states[:end])
                        checked += 1
    assert checked > 50


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

