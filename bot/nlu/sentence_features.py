"""Rasa's CountVectorsFeaturizer, computing only the features something reads.

Rasa's featurizer vectorizes every message twice: once word by word (the
sequence features, for DIET or CRF entity extraction) and once as a whole
(the sentence features). This pipeline has neither: the logistic regression
reads only sentence features. Vectorizing each word separately was about half
of the featurizers' time on every turn (a tenth of a turn with both featurizers).
The sentence features are Rasa's own, computed by Rasa's code, so training and
classification give the same numbers (tests/unit/test_rasa_server.py compares
the served model with Rasa's featurizer on the held-out NLU set).
"""
from __future__ import annotations

from typing import List, Optional, Text, Tuple

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer without sequence features (config.yml: no component reads them)."""

    def _create_features(
        self, attribute: Text, all_tokens: List[List[Text]]
    ) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
            # Rasa gives these attributes (intents, action names) sequence features only: it keeps them.
            return super()._create_features(attribute, all_tokens)
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            if not tokens:
                sentence_features.append(None)
                continue
            sentence = vectorizer.transform([" ".join(tokens)])
            sentence.sort_indices()
            sentence_features.append(sentence.tocoo())
        return [None] * len(all_tokens), sentence_features
