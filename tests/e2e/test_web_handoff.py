"""The chat widget and the agent console in chromium, side by side, on the hand-off stack."""
import re

from playwright.sync_api import expect

from tests.agents import DEMO_AGENT
from tests.e2e.web import REPLY_TIMEOUT_MS, BrowserPage


def test_member_and_agent_in_two_browser_pages(browser, handoff_stack):
    """The widget and the console in chromium: hand-off, claim, masked transcript, both ways live, resolve."""
    member, console = BrowserPage(browser, handoff_stack), BrowserPage(browser, handoff_stack)
    try:
        member.goto("/")
        member.open_chat()
        assert "never ask" in member.say("my password is Sunny-Day-42")
        assert "Shall I connect you?" in member.say("I need to talk to a real person")
        reference = re.search(r"reference is (HD-[A-Z0-9]+)", member.click_choice("Yes, connect me")).group(1)

        page = console.page
        console.goto("/agent")
        page.get_by_label("Username").fill(DEMO_AGENT["username"])  # keyboard only: type, Tab, Enter
        page.keyboard.press("Tab")
        page.keyboard.type(DEMO_AGENT["password"])
        page.keyboard.press("Enter")
        row = page.locator("#waiting button", has_text=reference)
        expect(row).to_contain_text("reason: asked_for_person")
        row.click()
        page.get_by_role("button", name="Claim this escalation").click()
        transcript = page.get_by_role("log", name="Conversation")
        expect(transcript).to_contain_text("my password is [removed password]")
        assert "Sunny-Day-42" not in transcript.inner_text()
        expect(page.locator("#claimed button", has_text=reference)).to_contain_text("claimed by Avery (demo agent)")

        page.get_by_label("Reply to the member").fill("Hi, this is Avery from the help desk. What happened?")
        page.get_by_role("button", name="Send reply").click()
        agent_message = member.messages("agent").last
        expect(agent_message).to_contain_text("Avery (demo agent)", timeout=REPLY_TIMEOUT_MS)
        expect(agent_message).to_contain_text("What happened?")

        member.input.fill("I still can't sign in to MyChart")
        member.input.press("Enter")
        expect(transcript).to_contain_text("Member: I still can't sign in to MyChart", timeout=REPLY_TIMEOUT_MS)
        violations = console.axe_violations()
        assert violations == [], violations

        bot_messages = member.messages().count()
        page.get_by_label("Resolution note").fill("Explained how to reset the password")
        page.get_by_role("button", name="Resolve", exact=True).click()
        expect(page.locator("#resolved button", has_text=reference)).to_be_visible()
        assert "back with the Avera virtual assistant" in member.wait_for_bot_message(bot_messages + 1)
        member.wait_turn_over()
        assert re.search(r"lock", member.say("how long does a lockout last?"), re.I)
        assert not member.problems and not console.problems, member.problems + console.problems
    finally:
        member.close()
        console.close()
