"""The chat widget on the help page, in chromium, against the whole stack on loopback."""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import outbox
from tests.e2e.web import DESKTOP, REPLY_TIMEOUT_MS, deliver_agent_message

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SENT = re.compile(r"if the details match our records", re.I)


def test_access_code_reissue_with_buttons_sends_a_code(web, backend):
    web.goto("/")
    web.open_chat()
    before = len(outbox(backend, "riley.sample@example.org"))
    reply = web.say("I never got my MyChart access code")
    assert "send you a new access code" in reply
    reply = web.click_choice("Yes")
    yes = web.page.locator(".avc-choice", has_text=re.compile("^Yes$")).first
    expect(yes).to_be_disabled()
    expect(web.messages("user").last).to_contain_text("Yes")
    assert re.search(r"first and last name", reply, re.I)
    web.say("Riley Sample")
    web.say("2009-06-20")
    reply = web.say("riley.sample@example.org")
    assert "Should I send a new MyChart access code" in reply
    reply = web.click_choice("Yes, send it")
    assert SENT.search(reply) and "855-667-9704" in reply
    messages = outbox(backend, "riley.sample@example.org")
    assert len(messages) == before + 1 and "access code" in messages[-1]["body"].lower()
    expect(web.input).to_be_focused()  # after a reply, the member can type at once


def test_keyboard_alone_from_launcher_to_answer(web):
    web.goto("/")
    keyboard = web.page.keyboard
    for _ in range(6):
        keyboard.press("Tab")
        if web.page.evaluate("document.activeElement.textContent") == "Chat with us":
            break
    keyboard.press("Enter")
    expect(web.input).to_be_focused()
    web.wait_for_bot_message(1)
    keyboard.type("what browsers does system link support?")
    keyboard.press("Enter")
    web.wait_for_bot_message(2)
    web.wait_turn_over()
    expect(web.log).to_contain_text("Chrome 118")
    expect(web.input).to_be_focused()
    for _ in range(12):  # focus stays inside the open panel
        keyboard.press("Tab")
        assert web.page.evaluate("document.getElementById('avc-panel').contains(document.activeElement)")
    keyboard.press("Escape")
    expect(web.page.locator("#avc-panel")).to_be_hidden()
    expect(web.page.get_by_role("button", name="Chat with us")).to_be_focused()


def test_reload_keeps_the_conversation_and_end_chat_clears_it(web):
    web.goto("/")
    web.open_chat()
    web.say("how do I reach the learning center?")
    texts = web.page.locator(".avc-msg .avc-text")
    shown = texts.all_inner_texts()
    session = web.session_id()
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    web.page.reload()
    expect(web.page.locator("#avc-panel")).to_be_visible()
    expect(texts).to_have_count(len(shown))
    assert texts.all_inner_texts() == shown
    assert web.session_id() == session
    reply = web.say("which number do I call?")  # the same conversation goes on after the reload
    assert "605-322-7879" in reply
    web.page.get_by_role("button", name="End chat").click()
    web.wait_for_bot_message(1)  # a new greeting, and nothing else
    expect(web.messages("user")).to_have_count(0)
    assert web.session_id() != session
    expect(web.log).not_to_contain_text("learning center")


def test_agent_message_is_shown_as_from_a_person(web, stack):
    web.goto("/")
    web.open_chat()
    deliver_agent_message(stack, web.session_id(), "Alex Rivera", "Hi, I'm Alex from the help desk.\nHow can I help?")
    agent = web.messages("agent").last
    expect(agent).to_contain_text("Alex Rivera (help desk staff)")
    expect(agent).to_contain_text("How can I help?")
    bot_background = web.messages("bot").first.locator(".avc-text").evaluate("e => getComputedStyle(e).backgroundColor")
    agent_background = agent.locator(".avc-text").evaluate("e => getComputedStyle(e).backgroundColor")
    assert agent_background != bot_background


def test_html_in_messages_is_shown_as_text(web, stack):
    web.goto("/")
    web.open_chat()
    attack = '<img src=x onerror="document.title=\'pwned\'">'
    deliver_agent_message(stack, web.session_id(), "<b>Mallory</b>", attack)
    expect(web.messages("agent").last).to_contain_text(attack)
    expect(web.messages("agent").last).to_contain_text("<b>Mallory</b>")
    web.input.fill(attack)
    web.input.press("Enter")
    expect(web.messages("user").last).to_contain_text(attack)
    assert web.page.locator(".avc-log img, .avc-log b").count() == 0
    assert web.page.title() != "pwned"


def test_site_request_with_the_agreement_uploaded_in_the_chat(web, stack, backend):
    web.goto("/")
    web.open_chat()
    uid = re.sub(r"[^a-z]", "", web.session_id())[:6]
    web.say("our clinic needs a new avera system link site")
    web.say(f"Meadow Family Clinic {uid}")
    reply = web.say("100 Main St, Sioux Falls, SD 57104")
    assert "upload the signed agreement" in reply
    picker = web.page.get_by_label(re.compile(r"Signed site agreement"))
    label = web.page.locator(".avc-upload label").last.inner_text()
    assert "pdf, jpg, jpeg, gif, bmp, tif, tiff" in label and "10 MB" in label
    upload = web.page.get_by_role("button", name="Upload")
    problem = web.page.locator(".avc-upload-error").last

    picker.set_input_files({"name": "agreement.docx", "mimeType": "application/octet-stream", "buffer": b"PK.."})
    upload.click()
    expect(problem).to_contain_text("This file type can't be used")
    picker.set_input_files({"name": "agreement.pdf", "mimeType": "application/pdf", "buffer": b"just text"})
    upload.click()  # the name says pdf; the backend reads the content and refuses it
    expect(problem).to_contain_text("Only these file types are accepted")

    before = web.messages().count()
    picker.set_input_files({"name": "agreement.pdf", "mimeType": "application/pdf", "buffer": PDF})
    upload.click()
    expect(web.messages("user").last).to_contain_text("Uploaded agreement.pdf")
    web.wait_for_bot_message(before + 1)
    web.wait_turn_over()
    expect(web.messages().last).to_contain_text("first site administrator")
    for answer in ("Morgan Reyes", "biller", f"morgan.{uid}@example.org", "no", "I agree", "Morgan Reyes"):
        reply = web.say(answer)
    assert "site agreement uploaded" in reply
    reply = web.say("yes")
    reference = re.search(r"SR-[A-Z0-9]+", reply).group(0)
    status, body = backend("GET", f"/site-requests/{reference}")
    assert status == 200 and body["status"] == "awaiting_email_confirmation"
    stored = web.page.evaluate("sessionStorage.getItem('avera-chat')") + web.page.content()
    assert stack.env["BACKEND_ACTIONS_TOKEN"] not in stored and stack.env["BACKEND_ADMIN_TOKEN"] not in stored


def test_server_restart_while_the_page_is_open(web, stack):
    rasa = next(service for service in stack.services if service.name == "rasa")
    web.goto("/")
    web.open_chat()
    rasa.stop()
    try:
        expect(web.page.locator(".avc-status")).to_contain_text("connection was lost", timeout=REPLY_TIMEOUT_MS)
        web.input.fill("what browsers does system link support?")
        web.input.press("Enter")
        expect(web.page.locator(".avc-pending")).to_have_count(1)
        web.page.reload()  # still offline: the typed message is kept, and the member hears whom to call
        expect(web.page.locator(".avc-status")).to_contain_text("855-667-9704", timeout=REPLY_TIMEOUT_MS)
        expect(web.page.locator(".avc-pending")).to_have_count(1)
    finally:
        rasa.start()
        rasa.wait_healthy(timeout=180)
    expect(web.log).to_contain_text("Chrome 118", timeout=60_000)
    expect(web.page.locator(".avc-pending")).to_have_count(0)
    web.page.set_viewport_size(DESKTOP)
