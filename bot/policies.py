"""Rasa's RulePolicy with its rule search remembered per recent conversation history,
and a prediction's conversation states worked out once.

config.yml names this class, so `rasa test`, `rasa shell`, `rasa interactive`
and the server predict with it (tests/unit/test_rasa_server.py compares it
with Rasa's own on every point of real conversations, forms included).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Text

from rasa.core.policies import rule_policy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

MEMOISED_STATE_HISTORIES = 10_000


def frozen(value: Any) -> Any:
    """A hashable copy of a conversation state (dicts, lists and tuples of plain values)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, frozen(item)) for key, item in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(frozen(item) for item in value))
    hash(value)
    return value


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class MemoisedRulePolicy(rule_policy.RulePolicy):
    """Rasa's RulePolicy, remembering which rules can apply to the last few states.

    Rasa checks every rule (about 200 here) against the conversation's states
    two or three times a turn. A rule only looks at as many states as it is
    long, so the answer depends on the last `longest rule` states alone, and
    those repeat from conversation to conversation. Training edits the rules
    while it checks them, so only a loaded (trained) policy remembers.
    """

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> MemoisedRulePolicy:
        policy = super().load(*args, **kwargs)
        policy._memo = {}
        policy._longest_rule = {}
        policy._last_states = None
        return policy

    def _prediction_states(self, tracker: DialogueStateTracker, domain: Domain,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
        """Rasa's states for a prediction, the conversation replayed once for both rule searches.

        RulePolicy searches its rules twice per prediction (the last message as text, then as
        intent) and Rasa replays the whole conversation into states each time. The two lists
        differ only in the last user input, which Rasa's own featurizer step picks, here on a
        copy of what it changes (the states' user parts).
        """
        if getattr(self, "_memo", None) is None:
            return super()._prediction_states(tracker, domain, use_text_for_last_user_input, rule_only_data)
        events = tracker.events
        last_event = events[-1] if events else None
        last = self._last_states
        if not (last and last[0] is tracker and last[1] == len(events) and last[2] is last_event
                and last[3] is domain and last[4] == rule_only_data):
            # RulePolicy supports rule data, so Rasa keeps rule-only turns and action_unlikely_intent.
            last = self._last_states = (tracker, len(events), last_event, domain, rule_only_data,
                                        self.featurizer._create_states(tracker, domain, rule_only_data=rule_only_data))
        states = [{**state, USER: dict(state[USER])} if USER in state else dict(state) for state in last[5]]
        states = self.featurizer.slice_state_history(states, self.featurizer.max_history)
        self.featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[Dict]) -> Set[Text]:
        memo = getattr(self, "_memo", None)
        if memo is None or not lookup:
            return super()._get_possible_keys(lookup, states)
        if id(lookup) not in self._longest_rule:
            self._longest_rule[id(lookup)] = max(len(self._rule_key_to_state(key)) for key in lookup)
        recent = states[-self._longest_rule[id(lookup)]:]
        try:
            key = (id(lookup), frozen(recent))
        except TypeError:
            return super()._get_possible_keys(lookup, states)
        if key not in memo:
            if len(memo) >= MEMOISED_STATE_HISTORIES:
                memo.clear()
            memo[key] = frozenset(super()._get_possible_keys(lookup, recent))
        return set(memo[key])
