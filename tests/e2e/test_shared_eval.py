"""The shared evaluation (../shared/eval) against the whole stack on loopback."""
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.e2e.conftest import SHARED

# Locally it may be missing (a lone checkout); in CI (`CI` set) a missing evaluation fails.
NEEDS_SHARED_EVAL = pytest.mark.skipif(not (SHARED / "eval").exists() and not os.environ.get("CI"),
                                       reason="../shared/eval is not beside this checkout")


def case_count(cases: str) -> int:
    return len(yaml.safe_load((SHARED / "eval" / cases).read_text()))


def run_eval(stack, cases: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "run_eval.py"), str(SHARED / "eval" / cases),
         "--url", stack.rasa_url, "--backend", stack.backend_url,
         "--admin-token", stack.env["BACKEND_ADMIN_TOKEN"]],
        capture_output=True, text=True, timeout=900,
    )
    print(result.stdout)
    return result.stdout


def counts(output: str):
    match = re.search(r"^(\d+) passed, (\d+) failed$", output, re.M)
    assert match, output
    return int(match.group(1)), int(match.group(2))


@NEEDS_SHARED_EVAL
def test_faq_cases(stack):
    passed, failed = counts(run_eval(stack, "faq_cases.yml"))
    assert (passed, failed) == (case_count("faq_cases.yml"), 0), f"{passed} passed, {failed} failed"


@NEEDS_SHARED_EVAL
def test_flow_cases(stack):
    passed, failed = counts(run_eval(stack, "flow_cases.yml"))
    assert (passed, failed) == (case_count("flow_cases.yml"), 0), f"{passed} passed, {failed} failed"
