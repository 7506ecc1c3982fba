"""What a member waits for in the browser: page load to the greeting, and reply time per turn.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python -m bench.web_chat [--loads 10] [--turns 20]

Starts the whole help desk on free loopback ports (`bot.cli.isolated_stack`, as the
end-to-end tests do) and drives Debian's chromium with Playwright:
- page load to greeting: from navigation start (performance.timeOrigin) until the bot's
  greeting is on screen, the launcher clicked as soon as the widget shows it; each load
  in a fresh browser context (no cache, new conversation);
- reply time: from pressing Enter until the first reply message is on screen, measured in
  the page (performance.now), for `--turns` help-desk questions in one conversation.

A benchmark that prints figures, not a test.
"""
import argparse
import statistics
import tempfile
from pathlib import Path
from typing import List

from playwright.sync_api import sync_playwright

from bot.cli import isolated_stack, model_path
from tests.e2e.web import CHROMIUM, CHROMIUM_ARGS, DESKTOP

QUESTIONS = [
    "what browsers does system link support?",
    "I never got my MyChart access code",
    "no",
    "how do I reach the learning center?",
    "which number do I call?",
    "can my 15 year old have a mychart account?",
    "what is the CE portal?",
    "I'm locked out of mychart",
    "how long does a reset link last?",
    "what happened to averachart?",
    "how do I get my CE transcript?",
    "who do I call about my health plan?",
    "is there a mychart app?",
    "how do I request a new system link site?",
    "never mind",
    "what screen resolution does system link need?",
    "how do I get proxy access for my mother?",
    "thanks",
    "what is the help desk number?",
    "bye",
]

GREETING_SHOWN = "() => document.querySelector('.avc-msg--bot') && performance.now()"
REPLY_TIME = """async (text) => {
  const log = document.querySelector('.avc-log');
  const before = log.querySelectorAll('.avc-msg--bot').length;
  const input = document.getElementById('avc-input');
  return await new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (log.querySelectorAll('.avc-msg--bot').length > before) {
        observer.disconnect();
        resolve(performance.now() - start);
      }
    });
    observer.observe(log, {childList: true});
    input.value = text;
    const start = performance.now();
    input.form.requestSubmit();
  });
}"""


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def describe(name: str, values: List[float]) -> str:
    return (f"{name:28s} n={len(values):3d}  p50 {percentile(values, .5):6.0f} ms  p95 {percentile(values, .95):6.0f} ms"
            f"  max {max(values):6.0f} ms  mean {statistics.mean(values):6.0f} ms")


def measure(browser, url: str, loads: int, turns: int):
    greeting_ms = []
    for _ in range(loads):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.goto(url)
        page.get_by_role("button", name="Chat with us").click()
        greeting_ms.append(page.wait_for_function(GREETING_SHOWN, polling="raf", timeout=60_000).json_value())
        context.close()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Chat with us").click()
    page.wait_for_function(GREETING_SHOWN, timeout=60_000)
    reply_ms = []
    for i in range(turns):
        reply_ms.append(page.evaluate(REPLY_TIME, QUESTIONS[i % len(QUESTIONS)]))
        page.locator(".avc-typing").wait_for(state="hidden", timeout=60_000)  # the whole turn is over
    context.close()
    return greeting_ms, reply_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, isolated_stack(model_path(), Path(work)) as stack:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            measure(browser, stack.backend_url + "/", 1, 3)  # warm-up: first model run, first page
            greeting_ms, reply_ms = measure(browser, stack.backend_url + "/", args.loads, args.turns)
            browser.close()
    print(describe("page load to greeting", greeting_ms))
    print(describe("reply time seen in browser", reply_ms))


if __name__ == "__main__":
    main()
