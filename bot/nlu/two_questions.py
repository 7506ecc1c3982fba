"""Two questions in one message get two answers.

"What's the System Link deadline and what browsers does it support?" is one
message but two questions, and a classifier gives one intent per message.
After the classifier, this component splits a message at a second question
("... and what ...", "...? how ...", "... also ...") and classifies each part
with a small model of its own, trained on the same examples (word and
character n-grams, logistic regression: the same kind of model as the
pipeline's). When both parts are understood with confidence and ask
different things, the message's intent becomes `two_questions` and the two
intents are kept, in order, under `questions` for action_answer_two_questions.
A message the classifier took for two_questions that does not split is one
question: the parts' model's reading of it, else the classifier's next-best
intent. A message the classifier is sure is one question, the same as its
first part's, stays whole: what follows elaborates on it
("averachart is going away. what happens to my old messages?" is the move
question, not also a question about messaging), unless the parts' model is
as sure that the second part asks about another line ("how long does
approval take, and what's the Health Plans number?"). A courtesy before a question
("Thank you. Whom should I telephone?", "ok great, and how long does it
take") is not taken for a thank-you: the question after it is classified and
answered. A long story with no question in it, then one question ("... I'm the
site admin now. We have a surgical scheduler. Which role is she?") is that last
question when the parts' model is sure of it and it is about the same line as
the whole message's reading (never a task such as a site request).
"""
from __future__ import annotations

import pickle
import re
from typing import Any, Dict, List, Optional, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

from actions.conversation_topic import line_for_intent, line_from_words
from actions.followups import portal_named

TWO_QUESTIONS = "two_questions"
QUESTIONS_KEY = "questions"
MODEL_FILE = "two_questions.pkl"
_QUESTION_WORD = r"(?:what|whats|what's|how|when|whens|where|who|whom|which|why|can|could|do|does|is|are|should|will|would)"
_SPLIT = re.compile(
    rf"\?\s+(?=\w)|[.;]\s+(?={_QUESTION_WORD}\b)|,?\s+(?:and|also|plus|oh and)\s+(?=(?:also\s+)?{_QUESTION_WORD}\b)"
    r"|[.,;]?\s+(?:also|meanwhile|btw|by the way)\s+", re.I)
# "how many admins do we need, what do they do": two questions after a comma, both starting with a question word.
_COMMA_SPLIT = re.compile(rf"^({_QUESTION_WORD}\b[^,]*),\s+(?={_QUESTION_WORD}\b)", re.I)
MIN_WORDS = 3
# "Thank you. Whom should I telephone?": a courtesy first, then the question that matters.
_COURTESY_FIRST = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|thank you(?: so much| very much)?|thanks?|ty|great|cool|perfect|got it|alright|hi|hello)\b[\s,.!]*)+"
    r"(?P<rest>\w.*)$", re.I)
_A_QUESTION = re.compile(rf"\?\s*$|^(?:(?:and|so|also|but)\s+)?{_QUESTION_WORD}\b", re.I)
COURTESIES = ("thank", "acknowledge", "greet")
# "I need to move my appointment. Can I do it on the computer?": a second part that points back at the
# first ("it", "he") and names no portal is about the first part's topic, not a question of its own.
_POINTS_BACK = re.compile(r"\b(it|that|this|he|she|him|they|them|there)\b", re.I)
# "I work at a small clinic, our site was approved last week and I'm the site admin now. We have a surgical
# scheduler. Which role is she?": a story told first, then one question. The classifier, reading the whole,
# may take the story's words ("site admin") for the question; the last sentence is what is asked.
STORY_WORDS = 15
SURE_STORY_QUESTION = 0.8


def split_questions(text: str) -> List[str]:
    """The message's questions, when it has exactly two that are long enough to stand alone."""
    parts = [part.strip(" ?.,;") for part in _SPLIT.split(text or "")]
    if len(parts) == 1 and _COMMA_SPLIT.match(text or ""):
        parts = [part.strip(" ?.,;") for part in _COMMA_SPLIT.split(text, maxsplit=1) if part]
    parts = [part for part in parts if part]
    if len(parts) != 2 or any(len(part.split()) < MIN_WORDS for part in parts):
        return []
    return parts


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TwoQuestions(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        # Listed after the classifier in config.yml; it reads the text only.
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # Intents that never count as a question of their own ("thanks", "hi", "ok").
        # Intents whose whole message matters (the guided check reads every fact in it; an
        # emergency is only that) are never split.
        return {"min_confidence": 0.3,
                "sure_whole": 0.95,
                "keep_whole": ["check_record_access", "request_access_code", "request_password_reset",
                               "request_username_reminder", "request_site", "check_site_request_status",
                               "medical_emergency", "medical_advice", "share_sensitive_data"],
                "not_questions": ["greet", "goodbye", "thank", "affirm", "deny", "stop", "out_of_scope",
                                  "nlu_fallback", "share_sensitive_data", TWO_QUESTIONS]}

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[Any] = None):
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TwoQuestions:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) != TWO_QUESTIONS]
        self.model = make_pipeline(
            make_union(CountVectorizer(ngram_range=(1, 2)), CountVectorizer(analyzer="char_wb", ngram_range=(2, 5))),
            LogisticRegression(max_iter=400),
        ).fit([m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples])
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_bytes(pickle.dumps(self.model))
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> TwoQuestions:
        with model_storage.read_from(resource) as directory:
            model = pickle.loads((directory / MODEL_FILE).read_bytes())  # written by train() above
        return cls(config, model_storage, resource, model)

    def questions(self, text: str, whole: Dict[str, Any]) -> List[str]:
        """The intents of the message's two questions, or [] when it is not two clear questions.

        `whole` is the classifier's reading of the whole message: when it is sure the message is its first
        part's question, the second part only elaborates on it, unless the parts' model is as sure that the
        second part asks about another line ("how long does approval take, and what's the Health Plans
        number?").
        """
        parts = split_questions(text)
        if not parts or self.model is None:
            return []
        intents, confidences = [], []
        for probabilities in self.model.predict_proba(parts):
            best = probabilities.argmax()
            intent = self.model.classes_[best]
            if probabilities[best] < self.config["min_confidence"] or intent in self.config["not_questions"]:
                return []
            intents.append(str(intent))
            confidences.append(float(probabilities[best]))
        if intents[0] == intents[1] or self._second_leans_on_first(parts[1], intents):
            return []
        sure = self.config["sure_whole"]
        if intents[0] == whole.get("name") and (whole.get("confidence") or 0.0) >= sure and \
                (confidences[1] < sure or not self._another_line(parts[1], intents)):
            return []  # one question, elaborated
        return intents

    @staticmethod
    def _another_line(second: str, intents: List[str]) -> bool:
        """The second part is about another line than the first: it names one, or its intent has one."""
        line = line_from_words(second) or line_for_intent(intents[1])
        return line is not None and line != line_for_intent(intents[0])

    @staticmethod
    def _second_leans_on_first(second: str, intents: List[str]) -> bool:
        """The second part refers back to the first and was read as another topic or a general question.

        A follow-up kind ("and how long does that take?") or a number question stays a question of its
        own: action_answer_two_questions answers it about the first part.
        """
        first, other = intents
        if other.startswith("followup_") or other == "ask_phone_number":
            return False
        return bool(_POINTS_BACK.search(second)) and portal_named(second) is None \
            and line_for_intent(other) != line_for_intent(first)

    def question_after_story(self, text: str, whole: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The last sentence's question, when a long story with no question in it comes first and the parts'
        model is sure the last sentence asks another question about the same line as the whole reading."""
        parts = split_questions(text)
        if not parts or self.model is None or whole.get("name") in self.config["keep_whole"]:
            return None
        story, question = parts
        if len(story.split()) < STORY_WORDS or "?" in text[:text.rfind(question)] \
                or _A_QUESTION.search(story) or not _A_QUESTION.search(text[text.rfind(question):]):
            return None
        reading = self.one_question(question)
        line = line_for_intent(whole.get("name"))
        if not reading or reading["confidence"] < SURE_STORY_QUESTION or reading["name"] == whole.get("name") \
                or reading["name"] in self.config["keep_whole"] \
                or line is None or line_for_intent(reading["name"]) != line:
            return None
        return reading

    def question_after_courtesy(self, text: str) -> Optional[Dict[str, Any]]:
        """The intent of the question after a leading "thanks" or "ok", when there is a clear one."""
        match = _COURTESY_FIRST.match(text or "")
        if not match or self.model is None:
            return None
        rest = match.group("rest")
        if len(rest.split()) < MIN_WORDS - 1 or not _A_QUESTION.search(rest):
            return None
        reading = self.one_question(rest)
        return reading if reading and reading["name"] not in COURTESIES else None

    def one_question(self, text: str) -> Optional[Dict[str, Any]]:
        """The parts' model's reading of `text` as one question, when it is a clear one."""
        probabilities = self.model.predict_proba([text])[0]
        best = probabilities.argmax()
        intent = str(self.model.classes_[best])
        if probabilities[best] < self.config["min_confidence"] or intent in self.config["not_questions"]:
            return None
        return {"name": intent, "confidence": float(probabilities[best])}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            whole = (message.get(INTENT) or {}).get("name")
            if whole in COURTESIES and (question := self.question_after_courtesy(message.get(TEXT))):
                message.set(INTENT, question, add_to_output=True)
                continue
            if question := self.question_after_story(message.get(TEXT), message.get(INTENT) or {}):
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT, question, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [question] + [r for r in ranking if r.get("name") != question["name"]],
                            add_to_output=True)
                continue
            intents = [] if whole in self.config["keep_whole"] else \
                self.questions(message.get(TEXT), message.get(INTENT) or {})
            if intents:
                message.set(INTENT, {"name": TWO_QUESTIONS, "confidence": 1.0}, add_to_output=True)
                message.set(QUESTIONS_KEY, intents, add_to_output=True)
            elif (message.get(INTENT) or {}).get("name") == TWO_QUESTIONS:
                # "also unrelated, what browsers work for system link?" reads like a second question but is
                # one: the parts' model, which never learnt two_questions, says which (the classifier put most
                # of its weight on two_questions, so its next-best reading is often too weak to be taken).
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != TWO_QUESTIONS]
                reading = self.one_question(message.get(TEXT)) if self.model is not None else None
                if reading:
                    ranking = [reading] + [r for r in ranking if r.get("name") != reading["name"]]
                if ranking:
                    message.set(INTENT, ranking[0], add_to_output=True)
                    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
