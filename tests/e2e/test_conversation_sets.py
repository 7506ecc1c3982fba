"""The held-out conversation sets against the whole stack: the quality goal of issue 7.

The goal: unseen single questions pass at 95 % or more, unseen multi-turn
conversations at 90 % or more. The per-topic table is printed in the test
output, with whether each goal is met. The failing transcripts are not: the
sets are held out, and whoever improves the bot works on the dev set.

The build fails below each set's floor: the goal where it is met, else the
rate the bot reached when the floor was last raised (README, "Conversation
quality"), so no change makes the bot worse while the goal is still open.
Raise a floor when the bot improves; never lower one.
"""
import pytest

from bot.cli import ROOT
from bot.conversation_eval import load_set, pass_rate, report, run_set

SETS = ROOT / "tests" / "conversations"
GOALS = {"single": 0.95, "heldout": 0.90}
FLOORS = {"single": 0.95, "heldout": 0.85}  # heldout: 152 of 178 (85.4 %) on 2026-12-01 (was 149); goal not met


@pytest.mark.parametrize("name", sorted(GOALS))
def test_heldout_set_holds_its_floor(stack, capsys, name):
    outcomes = run_set(stack.rasa_url, load_set(SETS / name))
    table = report(f"tests/conversations/{name}", outcomes, FLOORS[name])
    rate = pass_rate(outcomes)
    verdict = "met" if rate >= GOALS[name] else "NOT MET (issue 7 open)"
    with capsys.disabled():
        print(f"\n{table}\n  goal {GOALS[name]:.0%}: {verdict}; the build fails below {FLOORS[name]:.0%}")
    assert rate >= FLOORS[name], table
