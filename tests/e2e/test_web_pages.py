"""The pages the bot's e-mails link to, in chromium: password reset, site-request confirmation, agreement upload."""
import json
import re
import sqlite3
import urllib.error
import urllib.request
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import backend_call, outbox

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# What the action server sends with identity and site-request calls: the member's address as the channel saw it.
AS_THE_ACTION_SERVER = {"X-Client-Address": "198.19.40.7"}


def link_in(messages, pattern: str) -> str:
    for message in reversed(messages):
        match = re.search(pattern + r"\S*", message["body"])
        if match:
            return match.group(0)
    raise AssertionError(f"no link matching {pattern} in {messages}")


def ask_for_reset_link(stack, patient) -> str:
    identity = {**{k: patient[k] for k in ("first_name", "last_name", "date_of_birth", "email")},
                "conversation_id": f"web-pages-{uuid.uuid4().hex[:8]}"}
    status, _ = backend_call(stack, "POST", "/accounts/password-reset", identity, token_name="BACKEND_ACTIONS_TOKEN",
                             headers=AS_THE_ACTION_SERVER)
    assert status == 202
    return link_in(outbox(lambda *a: backend_call(stack, *a), patient["email"]), r"http://\S+/reset-password\?token=")


def login(stack, username: str, password: str) -> int:
    return backend_call(stack, "POST", "/accounts/login", {"username": username, "password": password})[0]


def assert_accessible(web, name: str) -> None:
    assert web.axe_violations() == []
    web.screenshots(name)


def test_password_reset_page_unlocks_the_account(web, stack, new_patient):
    patient = new_patient()
    for _ in range(5):
        login(stack, patient["email"], "not-the-password")
    assert login(stack, patient["email"], "not-the-password") == 423
    link = ask_for_reset_link(stack, patient)
    web.page.goto(link)
    expect(web.page.get_by_role("heading", level=1)).to_have_text("Choose a new MyChart password")
    expect(web.page.locator("#password-rules")).to_contain_text("at least 8 characters")
    assert_accessible(web, "reset-password")
    web.page.get_by_label("New password", exact=True).fill("Prairie-sunrise-42")
    web.page.get_by_label("New password again").fill("Prairie-sunrise-43")
    web.page.get_by_role("button", name="Change my password").click()
    expect(web.page.get_by_role("alert")).to_contain_text("The two passwords are not the same")
    web.page.get_by_label("New password", exact=True).fill("Prairie-sunrise-42")
    web.page.get_by_label("New password again").fill("Prairie-sunrise-42")
    web.page.get_by_role("button", name="Change my password").click()
    expect(web.page.get_by_role("heading", level=1)).to_have_text("Your password is changed")
    expect(web.page.locator("main")).to_contain_text("it is unlocked now")
    assert login(stack, patient["email"], "Prairie-sunrise-42") == 200

    web.page.goto(link)  # the link works once
    expect(web.page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(web.page.locator("main")).to_contain_text("already used")
    expect(web.page.locator("main")).to_contain_text("855-667-9704")


def test_an_expired_reset_link_explains_the_thirty_minutes(web, stack, new_patient):
    patient = new_patient()
    link = ask_for_reset_link(stack, patient)
    database = stack.env["BACKEND_DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(database) as db:  # as if the member opened the e-mail an hour later
        db.execute("UPDATE password_reset_tokens SET expires_at = created_at WHERE account_id = "
                   "(SELECT id FROM portal_accounts WHERE username = ?)", (patient["email"],))
    web.page.goto(link)
    expect(web.page.locator("main")).to_contain_text("expired")
    expect(web.page.locator("main")).to_contain_text("30 minutes")
    assert_accessible(web, "reset-password-expired")


def test_a_forged_reset_form_post_changes_nothing(web, stack, new_patient):
    patient = new_patient()
    link = ask_for_reset_link(stack, patient)
    token = link.split("token=", 1)[1]
    body = f"token={token}&new_password=Evil-password-1&confirm_password=Evil-password-1&csrf_token=guess".encode()
    request = urllib.request.Request(f"{stack.backend_url}/reset-password", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Cookie": "avera_csrf=other", "Origin": "http://evil.example"})
    try:
        urllib.request.urlopen(request, timeout=15)
        raise AssertionError("a post without the page's CSRF token was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    web.page.goto(link)  # the link still works for the member
    expect(web.page.get_by_role("heading", level=1)).to_have_text("Choose a new MyChart password")


def open_site_request(stack, email: str) -> str:
    body = {"facility": {"name": f"Bluestem Clinic {uuid.uuid4().hex[:6]}", "address": "1 Main St, Sioux Falls"},
            "administrators": [{"name": "Morgan Reyes", "email": email, "role": "Biller"}],
            "terms_accepted": True, "requested_by": "Morgan Reyes", "requester_email": email}
    request = urllib.request.Request(
        f"{stack.backend_url}/api/v1/site-requests", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex,
                 "Authorization": f"Bearer {stack.env['BACKEND_ACTIONS_TOKEN']}", **AS_THE_ACTION_SERVER})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())["reference"]


def test_site_request_confirmation_and_agreement_upload_pages(web, stack, backend):
    email = f"morgan.{uuid.uuid4().hex[:8]}@example.org"
    reference = open_site_request(stack, email)
    mails = outbox(backend, email)
    confirm = link_in(mails, r"http://\S+/site-requests/confirm\?token=")
    agreement = link_in(mails, r"http://\S+/site-requests/" + reference + r"/agreement\?token=")

    web.page.goto(confirm)
    expect(web.page.get_by_role("heading", level=1)).to_have_text("E-mail address confirmed")
    expect(web.page.locator(".reference")).to_have_text(reference)
    expect(web.page.locator("main")).to_contain_text("We still need the site agreement")
    assert_accessible(web, "site-request-confirmed")

    web.page.goto(agreement)
    expect(web.page.locator(".reference")).to_have_text(reference)
    expect(web.page.locator("#agreement-rules")).to_contain_text("pdf, jpg, jpeg, gif, bmp, tif, tiff")
    expect(web.page.locator("#agreement-rules")).to_contain_text("10 MB")
    assert_accessible(web, "site-agreement-upload")
    picker = web.page.get_by_label("Signed site agreement")
    picker.set_input_files({"name": "agreement.pdf", "mimeType": "application/pdf", "buffer": b"a text file"})
    web.page.get_by_role("button", name="Upload the agreement").click()
    expect(web.page.get_by_role("alert")).to_contain_text("Only these file types are accepted")
    web.page.get_by_label("Signed site agreement").set_input_files(
        {"name": "agreement.pdf", "mimeType": "application/pdf", "buffer": PDF})
    web.page.get_by_role("button", name="Upload the agreement").click()
    expect(web.page.get_by_role("heading", level=1)).to_have_text("Site agreement received")
    expect(web.page.locator("main")).to_contain_text("under review")
    assert backend("GET", f"/site-requests/{reference}")[1]["status"] == "under_review"

    web.page.goto(agreement)  # the upload link is spent once the agreement is in
    expect(web.page.get_by_role("heading", level=1)).to_have_text("This link doesn't work")
    web.page.goto(confirm.split("token=")[0] + "token=not-a-real-token")
    expect(web.page.get_by_role("heading", level=1)).to_have_text("This link doesn't work")
