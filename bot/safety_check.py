"""`make check`: the one command that tells a trainer whether a change to the bot is safe.

It runs the checks a change to data/, domain.yml or config.yml can break
(validation, training, test stories, the NLU report, the held-out
conversation sets against a help desk of their own), in the order that fails fastest, keeps each one's output in results/check/, and
ends with one line: SAFE, or NOT SAFE with the check that failed and why.
The NLU report names the intents that got worse than in the previous run.
"""
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

RESULTS = Path("results") / "check"
LAST_NLU_REPORT = Path("results") / "nlu-last" / "intent_report.json"


def rasa(*args: str) -> List[str]:
    return [str(Path(sys.executable).with_name("rasa")), *args]


def python(*args: str) -> List[str]:
    return [sys.executable, *args]


def checks(model: Callable[[], str]) -> List[Tuple[str, Callable[[], List[str]]]]:
    """(name, command) in order; a command is built when its turn comes (the model exists by then)."""
    return [
        ("data validation", lambda: rasa("data", "validate", "--fail-on-warnings", "--config", "config.yml",
                                         "--domain", "domain.yml", "--data", "data")),
        ("training", lambda: python("-m", "bot.cli", "train")),
        ("test stories", lambda: rasa("test", "core", "--model", model(), "--stories", "tests/test_stories.yml",
                                      "--fail-on-prediction-errors", "--out", "results/stories")),
        ("NLU test run", lambda: rasa("test", "nlu", "--model", model(), "--nlu", "tests/nlu",
                                      "--out", "results/nlu", "--no-plot")),
        ("NLU report", lambda: python("-m", "bot.cli", "check-nlu", "results/nlu/intent_report.json",
                                      "--previous", str(LAST_NLU_REPORT))),
        ("conversation tests", lambda: python("-m", "pytest", "-q", "-p", "no:cacheprovider",
                                              "tests/e2e/test_conversation_sets.py")),
    ]


def last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def run(env: Dict[str, str], model: Callable[[], str]) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    failed: Optional[str] = None
    for name, command in checks(model):
        log = RESULTS / (name.replace(" ", "-") + ".log")
        print(f"- {name}...", end=" ", flush=True)
        with log.open("w") as out:
            code = subprocess.run(command(), stdout=out, stderr=subprocess.STDOUT, env=env).returncode
        print("ok" if code == 0 else f"FAILED (see {log})", flush=True)
        if name in ("NLU report", "conversation tests"):
            print("  " + "\n  ".join(line.strip() for line in log.read_text().splitlines()
                                    if line.strip().startswith(("macro F1", "intents worse", "overall", "goal"))))
        if code != 0:
            failed = f"{name} failed: {last_line(log)} (see {log})"
            break
    if failed is None:
        LAST_NLU_REPORT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy("results/nlu/intent_report.json", LAST_NLU_REPORT)
    seconds = time.monotonic() - started
    print(f"NOT SAFE: {failed}" if failed else f"SAFE: every check passed in {seconds:.0f} s; commit your change.")
    return 1 if failed else 0
