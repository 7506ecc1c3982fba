"""The chat widget on the help page, in chromium, against the whole stack on loopback."""
import functools
import http.server
import re
import threading

from playwright.sync_api import expect

from tests.e2e.conftest import outbox
from tests.e2e.web import DESKTOP, REPLY_TIMEOUT_MS, deliver_agent_message

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SENT = re.compile(r"if the details match our records", re.I)


def test_access_code_reissue_with_buttons_sends_a_code(web, backend):
    web.goto("/")
    web.open_chat()
    before = len(outbox(backend, "riley.sample@example.org"))
    web.page.evaluate("""() => {
      const typing = document.querySelector('.avc-typing');
      new MutationObserver(() => { if (!typing.hidden) window.typingWasShown = true; })
        .observe(typing, {attributes: true});
    }""")
    reply = web.say("I never got my MyChart access code")
    assert web.page.evaluate("window.typingWasShown === true")  # while the turn was in flight
    expect(web.page.locator(".avc-typing")).to_be_hidden()
    assert "send you a new access code" in reply
    reply = web.click_choice("Yes")
    yes = web.page.locator(".avc-choice", has_text=re.compile("^Yes$")).first
    expect(yes).to_be_disabled()
    expect(web.messages("user").last).to_contain_text("Yes")
    expect(web.messages("user").last.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
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
    outline = web.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focused launcher is visibly marked
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
    expect(web.page.locator(".avc-status")).to_have_text("")
    assert web.session_id() != session
    expect(web.log).not_to_contain_text("learning center")


def test_agent_message_is_shown_as_from_a_person(web, stack):
    web.goto("/")
    web.open_chat()
    deliver_agent_message(stack, web.session_id(), "Alex Rivera",
                          "Hi, I'm Alex from the help desk.\nThe steps are on https://www.example.org/mychart-help.")
    agent = web.messages("agent").last
    expect(agent).to_contain_text("Alex Rivera (help desk staff)")
    expect(agent.locator("p")).to_have_count(3)  # the name line, then one paragraph per line
    link = agent.get_by_role("link", name="https://www.example.org/mychart-help")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    bot_background = web.messages("bot").first.locator(".avc-text").evaluate("e => getComputedStyle(e).backgroundColor")
    agent_background = agent.locator(".avc-text").evaluate("e => getComputedStyle(e).backgroundColor")
    assert agent_background != bot_background
    web.screenshots("chat-agent-message")


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
    web.screenshots("chat-agreement-upload")

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
        expect(web.page.locator(".avc-typing")).to_be_hidden()  # nobody is answering while offline
        web.page.reload()  # still offline: the typed message is kept, and the member hears whom to call
        expect(web.page.locator(".avc-status")).to_contain_text("855-667-9704", timeout=REPLY_TIMEOUT_MS)
        expect(web.page.locator(".avc-pending")).to_have_count(1)
    finally:
        rasa.start()
        rasa.wait_healthy(timeout=180)
    expect(web.log).to_contain_text("Chrome 118", timeout=60_000)
    expect(web.page.locator(".avc-pending")).to_have_count(0)
    web.page.set_viewport_size(DESKTOP)


def test_chat_page_is_accessible_on_a_desktop_a_phone_and_zoomed(web):
    web.goto("/")
    assert web.axe_violations() == []
    web.open_chat()
    web.say("I never got my MyChart access code")  # a list, quick replies, times
    assert web.axe_violations() == []
    web.screenshots("chat")
    web.page.set_viewport_size({"width": 375, "height": 812})
    assert web.axe_violations() == []
    # 1024x768 zoomed to 200 % is a 512x384 CSS-pixel viewport: nothing may need sideways scrolling.
    web.page.set_viewport_size({"width": 512, "height": 384})
    assert web.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(web.input).to_be_in_viewport()
    expect(web.page.get_by_role("button", name="Send")).to_be_in_viewport()
    web.page.screenshot(path=str(web.screenshot_path("chat-zoom200-512x384")))
    web.page.emulate_media(reduced_motion="reduce")
    web.input.fill("what browsers does system link support?")
    web.input.press("Enter")
    animation = web.page.evaluate("getComputedStyle(document.querySelector('.avc-typing'), '::after').animationName")
    assert animation == "none"


def test_another_site_embeds_the_widget_with_one_script_tag(web, stack, tmp_path):
    """A clinic's page on another origin: a container and one script tag give it the whole chat."""
    page = (f'<!doctype html><html lang="en"><head><title>Clinic</title></head><body><main><h1>Clinic</h1>'
            f'<div id="avera-chat" data-socket-url="{stack.rasa_url}" data-support-phone="855-667-9704"></div>'
            f'<script src="{stack.backend_url}/static/chat/chat-widget.js" defer></script></main></body></html>')
    (tmp_path / "index.html").write_text(page)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as site:
        threading.Thread(target=site.serve_forever, daemon=True).start()
        try:
            web.page.goto(f"http://127.0.0.1:{site.server_address[1]}/index.html")
            web.open_chat()
            assert "Chrome 118" in web.say("what browsers does system link support?")
            background = web.page.locator(".avc-launcher, .avc-header").first.evaluate(
                "e => getComputedStyle(e).backgroundColor")
            assert background == "rgb(0, 85, 140)"  # its stylesheet came along
        finally:
            site.shutdown()
