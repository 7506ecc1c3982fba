"""The shared evaluation (../shared/eval) against the whole stack on loopback."""
import re
import subprocess
import sys

import pytest

from tests.e2e.conftest import SHARED

FAQ_MIN_PASSED = 57


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


@pytest.mark.skipif(not (SHARED / "eval").exists(), reason="../shared/eval is not beside this checkout")
def test_faq_cases(stack):
    passed, failed = counts(run_eval(stack, "faq_cases.yml"))
    assert passed >= FAQ_MIN_PASSED, f"{passed} passed, {failed} failed"


@pytest.mark.skipif(not (SHARED / "eval").exists(), reason="../shared/eval is not beside this checkout")
def test_flow_cases(stack):
    passed, failed = counts(run_eval(stack, "flow_cases.yml"))
    assert failed == 0 and passed >= 4, f"{passed} passed, {failed} failed"
