"""The spelling corrector reads a typo as the training data's word, and leaves real words alone."""
import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.spelling import SpellingCorrector

VOCABULARY = ["my", "quit", "prescription", "refill", "password", "locked", "mychart", "days", "foster", "swelling",
              "guardian", "transcript", "eligibility"]


@pytest.fixture(scope="module")
def corrector():
    return SpellingCorrector(None, None, VOCABULARY)


@pytest.mark.parametrize("typed, meant", [
    ("perscription", "prescription"),  # two letters swapped: one edit
    ("refil", "refill"),
    ("passwrd", "password"),
    ("MyChrt", "mychart"),
    ("gaurdian", "guardian"),
    ("eligiblity", "eligibility"),
])
def test_a_typo_reads_as_the_known_word(corrector, typed, meant):
    assert corrector.correction(typed) == meant


@pytest.mark.parametrize("word", [
    "dads",      # an English word one edit from "days": a parent, not a duration
    "faster",    # not "foster"
    "selling",   # not "swelling" (a symptom would turn the message into a medical question)
    "mychart",   # known already
    "lokd",      # short words need an exact match: two edits away from "locked" is too far
    "trnscrp",   # three edits from "transcript"
    "quib",      # four letters: gibberish one edit from "quit" would end the conversation
])
def test_real_words_and_far_strings_are_left_alone(corrector, word):
    assert corrector.correction(word) is None


def test_the_lemma_changes_and_the_text_stays_as_typed(corrector):
    message = Message({TEXT: "refil my perscription"})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    corrector.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.lemma for t in tokens] == ["refill", "my", "prescription"]
    assert [t.text for t in tokens] == ["refil", "my", "perscription"]
    assert message.get(TEXT) == "refil my perscription"
