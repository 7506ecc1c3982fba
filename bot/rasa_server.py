"""`rasa run` with this project's per-turn speed-ups applied first.

    python -m bot.rasa_server run --model ... (the same arguments as `rasa run`)

Each speed-up replaces one Rasa 3.6.21 internal that py-spy showed to be a
large share of a turn (bench/turns.py) with code that gives the same result.
They change no answer: `rasa test`, `rasa shell` and training run without
them, and tests/unit/test_rasa_server.py checks each one against Rasa's own.
"""
import functools
import sys
from typing import Any, Dict, List, Optional, Text, Tuple

import jsonschema
import numpy as np
import rasa.core.processor
import scipy.sparse
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """The validator of action-server responses, its schema checked once.

    Rasa calls `jsonschema.validate` on every action-server response, which
    checks the (large, constant) events schema against the JSON Schema
    meta-schema each time: about 29 ms per call, three calls on a form turn.
    """
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result with the prepared validator."""
    error = jsonschema.exceptions.best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_load_logistic_regression = LogisticRegressionClassifier.load.__func__


@functools.wraps(_load_logistic_regression)
def load_logistic_regression(cls: type, *args: Any, **kwargs: Any) -> LogisticRegressionClassifier:
    """LogisticRegressionClassifier.load, its weights laid out for the product it computes.

    scikit-learn scores a message as `features @ coef_.T`; with `coef_` in C
    order, SciPy first copies the whole transposed matrix (intents x
    vocabulary, about 5 ms here) on every message. Stored in Fortran order,
    `coef_.T` is already contiguous: the same numbers, no copy.
    """
    component = _load_logistic_regression(cls, *args, **kwargs)
    classifier = getattr(component, "clf", None)
    if classifier is not None and hasattr(classifier, "coef_"):
        classifier.coef_ = np.asfortranarray(classifier.coef_)
    return component


def side_by_side(blocks: List[Any]) -> scipy.sparse.coo_matrix:
    """scipy.sparse.hstack of same-height blocks, entries in the same order, without its general checks."""
    blocks = [scipy.sparse.coo_matrix(block) for block in blocks]
    offsets = np.cumsum([0] + [block.shape[1] for block in blocks[:-1]])
    return scipy.sparse.coo_matrix(
        (np.concatenate([block.data for block in blocks]),
         (np.concatenate([block.row for block in blocks]),
          np.concatenate([block.col + offset for block, offset in zip(blocks, offsets)]))),
        shape=(blocks[0].shape[0], sum(block.shape[1] for block in blocks)))


def classifier_input(_classifier: LogisticRegressionClassifier, messages: List[Message]) -> Any:
    """LogisticRegressionClassifier._create_X without what it throws away.

    Rasa combines every featurizer's sequence features and sentence features
    (deep copies and SciPy stacking, about 1 ms a message) and then uses only
    the sentence features: here they are put side by side directly, sparse
    first, then dense, as Rasa orders them.
    """
    rows = []
    for message in messages:
        sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
        blocks = [f.features for f in sentence if f.is_sparse()]
        dense = [f.features for f in sentence if f.is_dense()]
        if dense:
            blocks.append(np.concatenate(dense, axis=-1))
        rows.append(side_by_side(blocks) if blocks else scipy.sparse.coo_matrix((1, 0)))
    return scipy.sparse.vstack(rows)


class SequentialGraphRunner(DaskGraphRunner):
    """Runs the model's graph in a fixed order worked out once per set of targets.

    Rasa's runner builds a dask graph, computes the minimal schema and formats
    its inputs into a debug message on every call (one to parse a message, one
    per predicted action), about a tenth of a turn. The graph's nodes are pure functions of their inputs, so
    any order that puts each node after the nodes it needs gives the same
    outputs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[Text, ...], List[Tuple[Text, List[Text]]]] = {}

    def _plan(self, targets: Tuple[Text, ...]) -> List[Tuple[Text, List[Text]]]:
        """(node, the names it needs), each node after the nodes it needs, once, for these targets."""
        if targets not in self._plans:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            plan: List[Tuple[Text, List[Text]]] = []
            placed = set()

            def place(name: Text) -> None:
                if name in schema.nodes and name not in placed:
                    placed.add(name)
                    needs = list(schema.nodes[name].needs.values())
                    for need in needs:
                        place(need)
                    plan.append((name, needs))

            for target in targets:
                place(target)
            self._plans[targets] = plan
        return self._plans[targets]

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = self._plan(run_targets)
        outputs: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and any(value == node for node, _ in plan):
                raise GraphRunError(f"Input value '{value}' clashes with a node name.")
            outputs[name] = (name, value)
        try:
            for name, needs in plan:
                # As with dask, a need that nothing provides is passed as its bare name.
                outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return {target: outputs[target][1] for target in run_targets}


_rule_policy_possible_keys = RulePolicy._get_possible_keys
MEMOISED_STATE_HISTORIES = 10_000


def frozen(value: Any) -> Any:
    """A hashable copy of a conversation state (dicts, lists and tuples of plain values)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, frozen(item)) for key, item in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(frozen(item) for item in value))
    hash(value)
    return value


def possible_rule_keys(policy: RulePolicy, lookup: Dict[Text, Text], states: List[Dict]) -> set:
    """RulePolicy._get_possible_keys, remembered per recent history.

    Rasa checks every rule (about 200 here) against the conversation's states
    two or three times a turn. A rule only looks at as many states as it is
    long, so the answer depends on the last `longest rule` states alone, and
    those repeat from conversation to conversation.
    """
    if not lookup:
        return set()
    lengths = policy.__dict__.setdefault("_longest_rule", {})
    if id(lookup) not in lengths:
        lengths[id(lookup)] = max(len(policy._rule_key_to_state(key)) for key in lookup)
    recent = states[-lengths[id(lookup)]:]
    try:
        key = (id(lookup), frozen(recent))
    except TypeError:
        return _rule_policy_possible_keys(policy, lookup, states)
    memo = policy.__dict__.setdefault("_possible_keys", {})
    if key not in memo:
        if len(memo) >= MEMOISED_STATE_HISTORIES:
            memo.clear()
        memo[key] = frozenset(_rule_policy_possible_keys(policy, lookup, recent))
    return set(memo[key])


# (where, name, replacement): what apply() installs.
SPEED_UPS = [
    (RemoteAction, "_validate_action_result", validate_action_result),
    (LogisticRegressionClassifier, "load", classmethod(load_logistic_regression)),
    (LogisticRegressionClassifier, "_create_X", classifier_input),
    (rasa.core.processor, "DaskGraphRunner", SequentialGraphRunner),
    (RulePolicy, "_get_possible_keys", possible_rule_keys),
]


def apply() -> None:
    for owner, name, replacement in SPEED_UPS:
        setattr(owner, name, replacement)


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
