"""The speed-ups give what Rasa's own code gives, on the trained model.

Three are components named in config.yml (bot/nlu/fast_classifier.py,
bot/nlu/sentence_features.py, bot/policies.py): every Rasa command uses them. The rest are installed by the
launcher for `run` (bot/rasa_server.py). Here the served agent (all of them)
is compared with the same trained model run by Rasa's own code: the
components turned back into Rasa's classes, Rasa's graph runner, validator,
event-class lookup, slot copies and HTTP sessions. tests/e2e/test_speed_ups_in_forms.py does the same for forms,
which need the action server.
"""
import asyncio
import contextlib
import copy
from typing import Optional

import jsonschema
import numpy as np
import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.policies import rule_policy
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.utils.endpoints import EndpointConfig

from bot import policies, rasa_server
from bot.cli import ROOT, model_path
from bot.nlu.fast_classifier import FastLogisticRegressionClassifier
from bot.nlu.sentence_features import SentenceCountVectorsFeaturizer


def held_out_messages():
    """Every example of the held-out NLU set (tests/nlu): wording the model was not trained on."""
    for path in sorted((ROOT / "tests" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    yield line.strip()[2:]


MESSAGES = ["hi", "my SSN is 123-45-6789", "asdkjh qwelkj", "thanks, bye", *held_out_messages()]
CONVERSATIONS = [
    ["hello", "how do I get CE credit for a conference", "how long can I download the certificate", "thanks"],
    # ("how long does it last?" would be a follow-up, answered by an action: see tests/unit/test_followups.py)
    ["I got locked out of MyChart", "how many tries do i get before it locks", "what about my password, I forgot it"],
    ["what roles are there in System Link", "who needs to be the site administrator", "bye"],
    # Offers answered yes or no: rules that look further back than the last state.
    ["I forgot my password", "no"], ["I'm locked out of MyChart", "no thanks"],
]
ORIGINALS = [(owner, name, vars(owner).get(name)) for owner, name, _ in rasa_server.REPLACEMENTS]
ORIGINALS_BY_NAME = {name: original for _, name, original in ORIGINALS}


def without_random_fields(value):
    """An event as a dict, without what differs from run to run (times, ids, the model id).

    The policy that predicted an action is recorded by class name: the
    served one is the memoised RulePolicy.
    """
    if isinstance(value, dict):
        return {k: "RulePolicy" if (k, v) == ("policy", "MemoisedRulePolicy") else without_random_fields(v)
                for k, v in value.items() if k not in ("timestamp", "metadata", "message_id")}
    return value


@contextlib.contextmanager
def launcher_speed_ups():
    """The launcher's speed-ups while the block runs, Rasa's own code again after it."""
    rasa_server.apply()
    try:
        yield
    finally:
        for owner, name, original in ORIGINALS:
            if original is None:  # added, not replaced
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def components(agent, kind):
    return [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
            if isinstance(node._component, kind)]


def as_rasa_runs_it(agent: Agent) -> Agent:
    """The agent's trained components turned back into Rasa's own classes (weights as Rasa loads them)."""
    for classifier in components(agent, FastLogisticRegressionClassifier):
        classifier.__class__ = LogisticRegressionClassifier
        classifier.clf.coef_ = np.ascontiguousarray(classifier.clf.coef_)
    for featurizer in components(agent, SentenceCountVectorsFeaturizer):
        featurizer.__class__ = CountVectorsFeaturizer
    for policy in components(agent, policies.MemoisedRulePolicy):
        policy.__class__ = rule_policy.RulePolicy
    return agent


def served_and_stock_agents(action_endpoint: Optional[EndpointConfig] = None):
    """The trained model loaded as `rasa_server run` serves it, and as plain Rasa would run it."""
    stock = as_rasa_runs_it(Agent.load(str(model_path()), action_endpoint=action_endpoint))
    with launcher_speed_ups():
        served = Agent.load(str(model_path()), action_endpoint=action_endpoint)
    return served, stock


async def converse(agent, sender_id, texts):
    replies = [await agent.handle_text(text, sender_id=sender_id) for text in texts]
    return replies, await agent.tracker_store.retrieve(sender_id)


def same_conversations(served, stock, conversations, sender_prefix):
    """Both agents hold each conversation; the replies and stored events must be the same."""
    for number, texts in enumerate(conversations):
        with launcher_speed_ups():
            ours = asyncio.run(converse(served, f"{sender_prefix}-{number}", texts))
        theirs = asyncio.run(converse(stock, f"{sender_prefix}-{number}", texts))
        assert ours[0] == theirs[0], texts
        assert all(ours[0]), texts  # every turn was answered
        assert ([without_random_fields(event.as_dict()) for event in ours[1].events]
                == [without_random_fields(event.as_dict()) for event in theirs[1].events]), texts


def same_rules_at_every_point(served, stock, conversations, sender_prefix) -> int:
    """Rasa's rule search and the memoised one, on every prefix of every conversation, twice."""
    ours, = components(served, policies.MemoisedRulePolicy)
    theirs, = components(stock, rule_policy.RulePolicy)
    checked = 0
    for _ in range(2):  # the second round answers from the memo
        for number, texts in enumerate(conversations):
            with launcher_speed_ups():
                _, tracker = asyncio.run(converse(served, f"{sender_prefix}-{number}-{checked}", texts))
            states = theirs._prediction_states(tracker, stock.domain)
            for end in range(1, len(states) + 1):
                for lookup in theirs.lookup.values():
                    if isinstance(lookup, dict) and lookup:
                        assert (ours._get_possible_keys(lookup, states[:end])
                                == rule_policy.RulePolicy._get_possible_keys(theirs, lookup, states[:end]))
                        checked += 1
    return checked


def test_a_prediction_sees_the_states_rasa_gives_it(agents):
    """Both rule searches of a prediction, in either order, see the states Rasa's own code makes."""
    served, stock = agents
    ours, = components(served, policies.MemoisedRulePolicy)
    theirs, = components(stock, rule_policy.RulePolicy)
    for number, texts in enumerate(CONVERSATIONS):
        with launcher_speed_ups():
            _, tracker = asyncio.run(converse(served, f"states-{number}", texts))
        for end in range(1, len(tracker.events) + 1):
            prefix = tracker.travel_back_in_time(list(tracker.events)[end - 1].timestamp)
            for order in ((True, False), (False, True), (True, True)):
                for use_text in order:
                    assert (ours._prediction_states(prefix, stock.domain, use_text, theirs._get_rule_only_data())
                            == rule_policy.RulePolicy._prediction_states(theirs, prefix, stock.domain, use_text,
                                                                           theirs._get_rule_only_data()))


@pytest.fixture(scope="module")
def agents():
    return served_and_stock_agents()


def test_the_served_agent_really_uses_the_speed_ups(agents):
    served, stock = agents
    assert type(stock.processor.graph_runner) is DaskGraphRunner
    assert type(served.processor.graph_runner) is rasa_server.SequentialGraphRunner
    classifiers = components(served, LogisticRegressionClassifier)
    assert classifiers and all(type(c) is FastLogisticRegressionClassifier for c in classifiers)
    assert all(c.clf.coef_.T.flags["C_CONTIGUOUS"] for c in classifiers)
    assert [type(p) for p in components(served, rule_policy.RulePolicy)] == [policies.MemoisedRulePolicy]
    assert [type(p) for p in components(stock, rule_policy.RulePolicy)] == [rule_policy.RulePolicy]


def test_config_names_the_components_so_every_rasa_command_uses_them():
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    names = [c["name"] for c in config["pipeline"] + config["policies"]]
    assert "bot.nlu.fast_classifier.FastLogisticRegressionClassifier" in names
    assert "bot.policies.MemoisedRulePolicy" in names
    assert not {"LogisticRegressionClassifier", "RulePolicy"} & set(names)


def test_every_message_is_understood_the_same(agents):
    served, stock = agents
    assert len(MESSAGES) > 300

    async def parse_all(agent):
        return [await agent.parse_message(text) for text in MESSAGES]

    with launcher_speed_ups():
        parsed_by_served = asyncio.run(parse_all(served))
    for text, ours, theirs in zip(MESSAGES, parsed_by_served, asyncio.run(parse_all(stock))):
        assert ours["intent"] == theirs["intent"], text
        assert ours["intent_ranking"] == theirs["intent_ranking"], text
        assert ours["entities"] == theirs["entities"], text


def test_every_conversation_gets_the_same_replies_and_events(agents):
    same_conversations(*agents, CONVERSATIONS, "same")


def test_the_same_rules_apply_at_every_point_of_every_conversation(agents):
    assert same_rules_at_every_point(*agents, CONVERSATIONS, "rules") > 50


@pytest.mark.parametrize("response", [
    {"events": [{"event": "slot", "name": "email", "value": "a@example.org"}], "responses": [{"text": "ok"}]},
    {"events": [], "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": "slot"}], "responses": "not a list"},
    {"events": "not a list"},
    {"events": [{"event": "action", "name": "action_listen"}, {"event": "bot", "text": "hi", "data": {}},
                {"event": "active_loop", "name": None}, {"event": "slot", "name": "age", "value": {"years": 15}},
                {"event": "followup", "name": "utter_x"}, {"event": "reset_slots", "timestamp": 1.5}],
     "responses": [{"text": "ok", "buttons": []}]},
    {},
    {"events": None},
    {"events": [{"event": "slot", "name": 5, "value": 1}]},
    {"events": [{"event": "bot", "text": "hi", "timestamp": "now"}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "x", "confidence": "high"}}}]},
    {"events": [{"event": 5}]},
    {"events": [{"event": ["slot"]}]},
    {"events": ["slot"]},
    {"events": [{"name": "email"}]},
    {"events": [{"event": "slot", "name": "a"}, {"event": "action"}], "responses": [{"text": "ok"}, "not an object"]},
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
    assert rasa_server.is_valid_action_result(response) == (ours is True)  # the fast path alone
    if not isinstance(response.get("responses", []), list) or not isinstance(response.get("events", []), list):
        assert "Failed to validate Action server response" in ours


def test_every_event_type_resolves_to_the_class_rasa_finds():
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    rasas = ORIGINALS_BY_NAME["resolve_by_type"].__func__

    def verdict(resolve, name, default):
        try:
            return resolve(name, default)
        except ValueError as error:
            return str(error)

    names = {cls.type_name for cls in all_subclasses(Event)} | {"topic", "no_such_event"}
    assert len(names) > 20
    for name in sorted(names):
        for default in (None, UserUttered):
            assert verdict(rasa_server.resolve_by_type, name, default) == verdict(rasas, name, default), name


def test_calls_to_the_action_server_share_one_connection_and_carry_the_same_json():
    """Rasa opens a connection per call; the kept session sends each body over the same one."""
    from aiohttp import web

    async def scenario():
        peers, bodies = [], []

        async def webhook(request):
            peers.append(request.transport)
            bodies.append(await request.json())
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer x"})
        body = {"tracker": {"latest_message": {"text": "a/b \u00e9 \"quoted\""}, "timestamp": 1764551234.123456},
                "domain": {"responses": {"utter_x": [{"text": "x \u00e9"}]}}}
        try:
            with launcher_speed_ups():
                answers = [await endpoint.request(json=body, method="post") for _ in range(3)]
        finally:
            await runner.cleanup()
        return peers, bodies, answers

    peers, bodies, answers = asyncio.run(scenario())
    assert answers == [{"events": [], "responses": []}] * 3
    assert bodies == [{"tracker": {"latest_message": {"text": "a/b \u00e9 \"quoted\""},
                                   "timestamp": 1764551234.123456},
                       "domain": {"responses": {"utter_x": [{"text": "x \u00e9"}]}}}] * 3
    assert len({id(peer) for peer in peers}) == 1


def test_a_call_to_the_action_server_is_the_json_ujson_gives_with_the_domain_encoded_once():
    import ujson
    from rasa.shared.core.domain import Domain

    encode = rasa_server.ActionCallJSON()
    domain = Domain.load(str(ROOT / "domain.yml")).as_dict()
    tracker = {"sender_id": "a/b", "latest_message": {"text": "\u00e9 \"x\""}, "slots": {"age": 15.5}}
    bodies = [{"next_action": "action_x", "sender_id": "s", "tracker": tracker, "version": "3.6.21", "domain": domain},
              {"domain": domain}, {"next_action": "action_y", "tracker": tracker},
              {"domain": domain, "tracker": tracker},  # the domain not last: encoded whole
              {"next_action": "action_z", "domain": {"responses": {}}},  # another domain
              {"next_action": "action_x", "domain": domain}, [], {}]
    for body in bodies:
        assert encode(body) == ujson.dumps(body), body


def test_a_slot_copies_as_copy_copy_would_copy_it():
    import copy as copying

    from rasa.shared.core.domain import Domain

    slots = Domain.load(str(ROOT / "domain.yml")).slots
    assert len(slots) > 20
    for slot in slots:
        slot.value = ["a value"]
        ours = rasa_server.copy_slot(slot)
        theirs = copying.copy(slot)
        assert type(ours) is type(theirs) and vars(ours) == vars(theirs) and ours is not slot
        assert ours.value is slot.value  # shallow, as copy.copy
