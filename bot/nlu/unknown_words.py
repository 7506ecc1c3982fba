"""Treat a message that shares no word with the training data as not understood.

A linear classifier spreads its probability over the intents it knows, so
gibberish ("blorf zanthic quib") can still reach a confident-looking score
for a short intent such as "stop". If not one word of the message was ever
seen in training, the honest answer is "please rephrase", not a guess. The
same holds when the only words it knows are courtesies ("zxqv blorp please"):
they say nothing about what is asked, yet pull towards "yes" or "thanks".
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_WORD = re.compile(r"[a-z]{3,}")
COURTESIES = {"please", "pls", "plz", "thanks", "thank", "thx", "hello", "hey", "okay", "yes", "yeah", "sure"}
VOCABULARY_FILE = "vocabulary.json"


def words(text: str) -> Set[str]:
    return set(_WORD.findall((text or "").lower()))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        # Listed after the classifier in config.yml; it needs nothing at training time.
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: Optional[Set[str]] = None):
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownWordsFallback:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = set().union(*(words(m.get(TEXT)) for m in training_data.intent_examples))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)))
        return self._resource

    @classmethod
    def load(
        cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext, **kwargs: Any,
    ) -> UnknownWordsFallback:
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text()))
        return cls(model_storage, resource, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            # Read the words as the spelling corrector read them: "perscription" is a known word.
            tokens = message.get(TOKENS_NAMES[TEXT])
            seen = words(" ".join(token.lemma for token in tokens) if tokens else message.get(TEXT))
            known = seen & self.vocabulary
            if seen and (not known or (known <= COURTESIES and seen - known)):
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 0.0}
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback] + (message.get(INTENT_RANKING_KEY) or []),
                            add_to_output=True)
        return messages
