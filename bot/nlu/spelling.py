"""Read a mistyped word as the word the training data knows.

People type fast on phones: "refil my perscription", "im loked out of
mychrt". The classifier's word features know none of those words, and its
character n-grams alone are too weak to carry a short message, so it falls
back to "please rephrase". After the tokenizer, this component looks up
every word that is neither in the training examples nor an English word
(pyspellchecker's word list: "dads", "faster" and "selling" are words, not
typos of "days", "foster" and "swelling"), five letters or more, letters
only, and, when a word of the training examples is within one edit (two for
words of eight letters or more; a swap of two letters is one edit), gives
the token that word as its lemma. The featurizers read lemmas, so the message is featurized
as if it were spelled right; its text, and what actions and logs see, stay
as typed. Among equally close words the most frequent in training wins.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Dict, List, Optional, Type

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spellchecker import SpellChecker

_LETTERS = re.compile(r"[a-z]+")
# Four-letter words have too many neighbours: gibberish "quib" would read as "quit" (a stop).
MIN_LENGTH = 5
LONG_WORD = 8
VOCABULARY_FILE = "spelling_vocabulary.json"


def max_edits(word: str) -> int:
    return 2 if len(word) >= LONG_WORD else 1


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SpellingCorrector(GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: Optional[List[str]] = None):
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or []  # most frequent first: ties go to the commoner word
        self._known = set(self.vocabulary)
        self._english = SpellChecker(distance=1)

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SpellingCorrector:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        counts = Counter(
            token.text.lower()
            for example in training_data.intent_examples
            for token in example.get(TOKENS_NAMES[TEXT]) or []
            if _LETTERS.fullmatch(token.text.lower())
        )
        self.vocabulary = [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
        self._known = set(self.vocabulary)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary))
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SpellingCorrector:
        with model_storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / VOCABULARY_FILE).read_text())
        return cls(model_storage, resource, vocabulary)

    def correction(self, word: str) -> Optional[str]:
        """The known word a mistyped `word` stands for, or None when it is known or nothing is close."""
        word = word.lower()
        if len(word) < MIN_LENGTH or word in self._known or not _LETTERS.fullmatch(word) \
                or word in self._english:
            return None
        match = process.extractOne(word, self.vocabulary, scorer=DamerauLevenshtein.distance,
                                   score_cutoff=max_edits(word))
        return match[0] if match else None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                corrected = self.correction(token.text)
                if corrected:
                    token.lemma = corrected
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Every word of a training example is in the vocabulary: nothing to correct.
        return training_data
