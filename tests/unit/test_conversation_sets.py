"""The conversation test sets are well formed and stay held out; the runner checks what it says."""
import os
import re

import pytest
import yaml

from bot.cli import ROOT
from bot.conversation_eval import Turn, load_set
from bot.facts import phone

SETS = ROOT / "tests" / "conversations"
SHARED_FAQ = ROOT.parent / "shared" / "eval" / "faq_cases.yml"


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def openings(name: str) -> set:
    """Each conversation's first message: the question it is about. (Follow-ups such as "ok thanks"
    or "can I just call?" are the same everywhere by design; what they test is the context.)"""
    return {normalised(conversation.turns[0].say) for conversation in load_set(SETS / name)}


def training_examples() -> set:
    examples = set()
    for file in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(file.read_text()).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip().removeprefix("- "))
                examples.add(normalised(text))
    return examples


def test_the_heldout_conversations_are_at_least_150_and_all_multi_turn():
    conversations = load_set(SETS / "heldout")
    assert len(conversations) >= 150
    assert all(len(c.turns) >= 2 for c in conversations), [c.id for c in conversations if len(c.turns) < 2]


def test_the_single_question_set_has_at_least_200_one_turn_questions_on_every_topic():
    questions = load_set(SETS / "single")
    assert len(questions) >= 200 and all(len(q.turns) == 1 for q in questions)
    topics_without_questions = {c.topic for c in load_set(SETS / "heldout")} - {q.topic for q in questions}
    assert topics_without_questions <= {"cross_topic"}  # two-topic messages only make sense in conversations


def test_the_dev_set_loads_and_shares_no_question_with_the_heldout_sets():
    assert len(load_set(SETS / "dev")) >= 40
    assert not openings("dev") & (openings("heldout") | openings("single"))


@pytest.mark.parametrize("name", ["heldout", "single"])
def test_no_heldout_question_is_a_training_example(name):
    assert not openings(name) & training_examples()


@pytest.mark.skipif(not SHARED_FAQ.exists() and not os.environ.get("CI"),
                    reason="../shared/eval is not beside this checkout (in CI a missing evaluation fails)")
def test_no_set_copies_the_shared_evaluation():
    shared = {normalised(t) for case in yaml.safe_load(SHARED_FAQ.read_text()) for t in case["turns"]
              if isinstance(t, str)}
    for name in ("dev", "heldout", "single"):
        said = {normalised(turn.say) for conversation in load_set(SETS / name) for turn in conversation.turns}
        assert not said & shared, name


def test_a_phone_placeholder_accepts_the_number_from_the_facts_with_any_separators():
    turn = Turn("which number?", expect_all=["<phone:health_plans>"])
    digits = re.findall(r"\d+", phone("health_plans"))
    assert turn.problems(f"Call {phone('health_plans')}.") == []
    assert turn.problems(f"Call ({digits[0]}) {digits[1]} {digits[2]}.") == []
    assert turn.problems(f"Call {phone('mychart')}.") != []


def test_a_turn_fails_on_a_forbidden_answer_a_missing_fact_or_no_reply():
    turn = Turn("my son is 15, can i see his chart?", expect_any=["by law", "automatically"],
                expect_none=["no access"])
    assert turn.problems("Yes: by law, parents automatically have access.") == []
    assert turn.problems("You have no access, by law.") == ["must not say /no access/"]
    assert turn.problems("Please call us.") == ["none of ['by law', 'automatically']"]
    assert turn.problems("") == ["no reply"]


def test_a_key_written_twice_is_refused_rather_than_silently_dropped(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("- say: hi\n  expect_all: ['a']\n  expect_all: ['b']\n")
    with pytest.raises(yaml.YAMLError, match="given twice"):
        load_set(broken)


def test_sets_name_phone_numbers_only_through_the_facts():
    written_out = [file.name for file in SETS.rglob("*.yml") if re.search(r"\d{3}-\d{3}-\d{4}", file.read_text())]
    assert written_out == []
