"""Rasa's LogisticRegressionClassifier without two per-message copies and its ranking loop.

The same model and the same numbers: config.yml names this class, so
training, `rasa test`, `rasa shell`, `rasa interactive` and the server all
classify with the code below (tests/unit/test_rasa_server.py compares it
with Rasa's own on the trained model).
"""
from __future__ import annotations

from typing import Any, List

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH


def side_by_side(blocks: List[Any]) -> scipy.sparse.coo_matrix:
    """scipy.sparse.hstack of same-height blocks, entries in the same order, without its general checks."""
    blocks = [scipy.sparse.coo_matrix(block) for block in blocks]
    offsets = np.cumsum([0] + [block.shape[1] for block in blocks[:-1]])
    return scipy.sparse.coo_matrix(
        (np.concatenate([block.data for block in blocks]),
         (np.concatenate([block.row for block in blocks]),
          np.concatenate([block.col + offset for block, offset in zip(blocks, offsets)]))),
        shape=(blocks[0].shape[0], sum(block.shape[1] for block in blocks)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier, its input built directly and its weights laid out for the product."""

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
        """The sentence features side by side, sparse first, then dense, as Rasa orders them.

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
        # A served message is one row: SciPy's stacking of a single block only copies it.
        return rows[0] if len(rows) == 1 else scipy.sparse.vstack(rows)

    def process(self, messages: List[Message]) -> List[Message]:
        """Rasa's intent and ranking, the ranking sorted in NumPy.

        Rasa builds and sorts a dict for every intent of the model (about 150) on every
        message and keeps ten. Here a stable sort of the negated probabilities gives the same
        order (ties keep the classes' order, as Python's sort does) and only the kept entries
        become dicts, with the same NumPy values.
        """
        probabilities = self.clf.predict_proba(self._create_X(messages))
        intents = self.clf.classes_
        keep = self.config[RANKING_LENGTH]
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row, kind="stable")
            if keep > 0:
                order = order[:keep]
            ranking = [{"name": intents[i], "confidence": row[i]} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
