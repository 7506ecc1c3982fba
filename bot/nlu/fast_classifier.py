"""Rasa's LogisticRegressionClassifier without two per-message copies, long messages scaled down.

The same model: config.yml names this class, so training, `rasa test`,
`rasa shell`, `rasa interactive` and the server all classify with the code
below (tests/unit/test_rasa_server.py compares it with Rasa's own on the
trained model, the features scaled as below).

One option Rasa's classifier lacks, `max_length` (config.yml): a message
whose feature vector (word and character n-gram counts side by side) is
longer than that (L2) is scaled down to it. Raw counts grow with the
message: in a long, chatty one ("hi, hope you're well, my mom is 82 and ...
what do we do?") the story's n-grams add up and pull it to the intents with
long examples (two_questions, check_record_access, system_link_request_site),
with a confidence no short message reaches. Scaled down, it weighs no more
than a long training example. Messages up to that length (nearly all
training examples, every short question) keep their counts: a short message
still carries less evidence than a full question, which the confidence
thresholds downstream rely on.
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message


def side_by_side(blocks: List[Any]) -> scipy.sparse.coo_matrix:
    """scipy.sparse.hstack of same-height blocks, entries in the same order, without its general checks."""
    blocks = [scipy.sparse.coo_matrix(block) for block in blocks]
    offsets = np.cumsum([0] + [block.shape[1] for block in blocks[:-1]])
    return scipy.sparse.coo_matrix(
        (np.concatenate([block.data for block in blocks]),
         (np.concatenate([block.row for block in blocks]),
          np.concatenate([block.col + offset for block, offset in zip(blocks, offsets)]))),
        shape=(blocks[0].shape[0], sum(block.shape[1] for block in blocks)))


def at_most(features: Any, max_length: float) -> scipy.sparse.coo_matrix:
    """Each row scaled down to length `max_length` (L2) when longer; shorter rows unchanged, entries in order."""
    features = scipy.sparse.coo_matrix(features)
    lengths = np.sqrt(np.bincount(features.row, weights=features.data ** 2, minlength=features.shape[0]))
    scale = max_length / np.maximum(lengths, max_length)
    return scipy.sparse.coo_matrix((features.data * scale[features.row], (features.row, features.col)),
                                   shape=features.shape)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier, its input built directly (long ones scaled), its weights laid out for the product."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # Rasa's classifier as it is unless config.yml sets max_length.
        return {**LogisticRegressionClassifier.get_default_config(), "max_length": None}

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> FastLogisticRegressionClassifier:
        """The stored classifier, its weights in Fortran order.

        scikit-learn scores a message as `features @ coef_.T`; with `coef_` in C
        order, SciPy first copies the whole transposed matrix (intents x
        vocabulary, about 5 ms here) on every message. In Fortran order
        `coef_.T` is already contiguous: the same numbers, no copy.
        """
        component = super().load(*args, **kwargs)
        classifier = getattr(component, "clf", None)
        if classifier is not None and hasattr(classifier, "coef_"):
            classifier.coef_ = np.asfortranarray(classifier.coef_)
        return component

    def _create_X(self, messages: List[Message]) -> Any:
        """The sentence features side by side, sparse first, then dense, as Rasa orders them (long ones scaled).

        Rasa combines every featurizer's sequence and sentence features (deep
        copies and SciPy stacking, about 1 ms a message) and then uses only the
        sentence features.
        """
        rows = []
        for message in messages:
            sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
            blocks = [f.features for f in sentence if f.is_sparse()]
            dense = [f.features for f in sentence if f.is_dense()]
            if dense:
                blocks.append(np.concatenate(dense, axis=-1))
            rows.append(side_by_side(blocks) if blocks else scipy.sparse.coo_matrix((1, 0)))
        features = scipy.sparse.vstack(rows)
        return features if self.config["max_length"] is None else at_most(features, self.config["max_length"])
