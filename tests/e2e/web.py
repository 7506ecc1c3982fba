"""The chat page in a real browser: Playwright driving Debian's chromium against the test stack.

Fixtures `browser` and `chat_page` are imported by conftest.py. A test fails (never skips)
when CI is set and chromium is missing; locally it skips with the reason.
"""
import json
import os
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from bot.cli import ROOT, Stack
from bot.rasa_api import auth_headers

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
RESULTS = ROOT / "results" / "web"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SOCKET_IO_CLIENT = ROOT / "bot" / "web" / "static" / "vendor" / "socket.io.min.js"
DESKTOP = {"width": 1024, "height": 768}
PHONE = {"width": 375, "height": 812}
REPLY_TIMEOUT_MS = 30_000


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and every later test that calls asyncio.run (tests/unit, tests/e2e/test_socketio.py)
# would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = "chromium is not installed: apt-get install -y chromium (make test does this as root)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    missing = [str(path.relative_to(ROOT)) for path in (AXE, SOCKET_IO_CLIENT) if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make web` (npm ci; make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class BrowserPage:
    """A browser tab on the stack's web pages; records CSP violations and page errors."""

    def __init__(self, browser, stack: Stack, viewport=DESKTOP):
        self.stack = stack
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.problems: List[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def goto(self, path: str = "/") -> None:
        self.page.goto(self.stack.backend_url + path)

    # -- the chat widget --

    @property
    def log(self):
        return self.page.get_by_role("log", name="Conversation")

    @property
    def input(self):
        return self.page.get_by_label("Type your message")

    def open_chat(self) -> None:
        self.page.get_by_role("button", name="Chat with us").click()
        self.wait_for_bot_message(1)
        self.wait_turn_over()

    def messages(self, kind: str = "bot"):
        return self.page.locator(f".avc-msg--{kind}")

    def wait_for_bot_message(self, count: int) -> str:
        """The text of the count-th bot message, once it is shown."""
        message = self.messages().nth(count - 1)
        message.wait_for(timeout=REPLY_TIMEOUT_MS)
        return message.inner_text()

    def wait_turn_over(self) -> None:
        self.page.locator(".avc-typing").wait_for(state="hidden", timeout=REPLY_TIMEOUT_MS)

    def say(self, text: str) -> str:
        """Type a message, press Enter, and return everything the bot showed in reply."""
        before = self.messages().count()
        self.input.fill(text)
        self.input.press("Enter")
        self.wait_for_bot_message(before + 1)
        self.wait_turn_over()
        return "\n".join(self.messages().nth(i).inner_text() for i in range(before, self.messages().count()))

    def click_choice(self, title: str) -> str:
        before = self.messages().count()
        self.page.locator(".avc-choice:not([disabled])", has_text=re.compile(f"^{re.escape(title)}$")).last.click()
        self.wait_for_bot_message(before + 1)
        self.wait_turn_over()
        return "\n".join(self.messages().nth(i).inner_text() for i in range(before, self.messages().count()))

    def session_id(self) -> str:
        return json.loads(self.page.evaluate("sessionStorage.getItem('avera-chat')"))["sessionId"]

    # -- proof --

    def axe_violations(self, impacts=("serious", "critical")) -> List[Dict[str, Any]]:
        """axe-core from npm, evaluated in the page (not a script tag: the CSP would block it)."""
        self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        result = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
            "'best-practice']})")
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "targets": [n["target"] for n in v["nodes"]][:5]}
                for v in result["violations"] if v["impact"] in impacts]

    @staticmethod
    def screenshot_path(name: str) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        return RESULTS / f"{name}.png"

    def screenshots(self, name: str) -> None:
        """Keep the page at 1024x768 and at 375x812 (a phone) under results/web/."""
        for label, size in (("1024x768", DESKTOP), ("375x812", PHONE)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(self.screenshot_path(f"{name}-{label}")))
        self.page.set_viewport_size(DESKTOP)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def web(browser, stack):
    """A fresh browser tab (own cookies and sessionStorage); fails on CSP violations or script errors."""
    tab = BrowserPage(browser, stack)
    yield tab
    tab.close()
    assert not tab.problems, tab.problems


def rasa_api(stack: Stack, method: str, path: str, body: Optional[Any] = None,
             query: Optional[Dict[str, str]] = None) -> Any:
    """Every call the tests make to Rasa's HTTP API goes through here (its authentication may change)."""
    params = urllib.parse.urlencode(query or {})
    request = urllib.request.Request(
        f"{stack.rasa_url}{path}?{params}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **auth_headers(stack.env["RASA_TOKEN"])},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def deliver_agent_message(stack: Stack, conversation_id: str, agent_name: str, text: str) -> None:
    """What the hand-off sends: a bot event whose custom payload the widget gets as {agent_name, text}."""
    event = {"event": "bot", "text": None, "data": {"custom": {"data": {"agent_name": agent_name, "text": text}}}}
    rasa_api(stack, "POST", f"/conversations/{urllib.parse.quote(conversation_id)}/tracker/events", [event],
             {"output_channel": "socketio", "execute_side_effects": "true"})
