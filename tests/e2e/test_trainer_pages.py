"""The trainers' pages in a real browser: signed out they show nothing, signed in as a trainer
they list what members were not understood, work by keyboard alone and pass axe-core."""
import time

from tests.e2e.conftest import Chat

DEMO_TRAINER = {"username": "demo.agent", "password": "DemoAgent-2024!"}  # bot/backend/demo_data.yml


def sign_in(web) -> None:
    reply = web.page.request.post(web.stack.backend_url + "/api/v1/agent/sign-in", data=DEMO_TRAINER)
    assert reply.status == 200, reply.text()


def test_signed_out_the_pages_show_no_conversation(web, stack):
    Chat(stack).say("blibber blabber trainers page")
    for path in ("/trainer", "/trainer/analytics"):
        web.goto(path)
        assert "blibber" not in web.page.content()
        assert web.page.get_by_role("link", name="Sign in on the help-desk console").is_visible()


def open_inbox_until_listed(web, text: str, wait_seconds: float = 30) -> None:
    """The inbox is read from the event feed, which follows Rasa's events a moment later: reload until it is in."""
    deadline = time.monotonic() + wait_seconds
    while True:
        web.goto("/trainer")
        if web.page.get_by_role("cell", name=text).count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    web.page.get_by_role("cell", name=text).first.wait_for()


def test_a_trainer_turns_a_message_into_an_example_by_keyboard(web, stack):
    Chat(stack).say("glorp the mychart zindle")
    sign_in(web)
    open_inbox_until_listed(web, "glorp the mychart zindle")
    assert web.axe_violations() == []
    web.screenshots("trainer-inbox")

    row = web.page.get_by_role("row").filter(has_text="glorp the mychart zindle").first
    field = row.get_by_label("Intent")
    field.focus()
    field.fill("mychart_about")
    web.page.keyboard.press("Tab")  # to "Add as example"
    web.page.keyboard.press("Enter")
    web.page.get_by_role("status").filter(has_text="Added to data/nlu/mychart.yml as mychart_about").wait_for()
    assert web.page.get_by_role("cell", name="glorp the mychart zindle").count() == 0

    web.page.get_by_role("link", name="Analytics").click()
    web.page.get_by_role("heading", name="Conversations per channel").wait_for()
    assert web.axe_violations() == []
    web.screenshots("trainer-analytics")
