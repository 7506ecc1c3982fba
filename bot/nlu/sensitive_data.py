"""Make a message that carried a secret always get the privacy warning.

The channels replace passwords, SSNs and access codes with placeholders
(bot/redaction.py). Whatever else the message asked, the first thing the
user must hear is not to share such data, so this component sets the
intent deterministically instead of leaving it to the classifier. It also
catches secrets that arrive through Rasa's HTTP API, which has no channel.
"""
from __future__ import annotations

from typing import Any, Dict, List, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.redaction import contains_placeholder, redact

SENSITIVE_DATA_INTENT = "share_sensitive_data"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class SensitiveDataGuard(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SensitiveDataGuard:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if contains_placeholder(text) or redact(text)[1]:
                guard = {"name": SENSITIVE_DATA_INTENT, "confidence": 1.0}
                message.set(INTENT, guard, add_to_output=True)
                ranking = [
                    r for r in message.get(INTENT_RANKING_KEY) or []
                    if r.get("name") != SENSITIVE_DATA_INTENT
                ]
                message.set(INTENT_RANKING_KEY, [guard] + ranking, add_to_output=True)
        return messages
