"""Password reset links, username reminders, the lockout after five failures, and the
per-conversation cap on identity checks."""
from datetime import datetime

import pytest

from bot.backend.services.identity import ATTEMPTS_PER_CONVERSATION, ISSUES_PER_DAY
from bot.facts import facts, phone

pytestmark = pytest.mark.asyncio
DEMO_PASSWORD = "Correct-Horse-9"
RESET_PATH = "/reset-password"


def as_time(value) -> datetime:
    """A timestamp as read by raw SQL: a datetime from PostgreSQL, a string from SQLite."""
    return datetime.fromisoformat(str(value))


async def request_reset(api, patient, **overrides):
    reply = await api.post("/accounts/password-reset", api.identity_of(patient, **overrides), token="actions")
    assert (reply.status, reply.body) == (202, {"status": "accepted"})


async def newest_reset_token(api, patient) -> str:
    resets = [m for m in await api.outbox(patient["email"]) if RESET_PATH in (m["body"] or "")]
    return api.link_token(resets[-1]["body"], RESET_PATH)


async def complete(api, token, password="A-new-password-1"):
    return await api.post("/accounts/password-reset/complete", {"token": token, "new_password": password},
                          token=None)


async def login(api, username, password):
    return await api.post("/accounts/login", {"username": username, "password": password}, token=None)


async def test_reset_link_is_mailed_hashed_and_valid_for_thirty_minutes(api, db):
    patient = await api.create_patient(password=DEMO_PASSWORD)
    await request_reset(api, patient)
    [message] = await api.outbox(patient["email"])
    minutes = facts()["login"]["reset_link_valid_minutes"]
    assert "reset" in message["body"].lower() and f"{minutes} minutes" in message["body"]
    token = api.link_token(message["body"], RESET_PATH)
    assert await db.tables_containing(token) == ["outbox"]
    lifetime = await db.rows("SELECT t.created_at, t.expires_at FROM password_reset_tokens t "
                             "JOIN portal_accounts a ON a.id = t.account_id WHERE a.username = :u",
                             u=patient["email"])
    [(created, expires)] = [(as_time(row.created_at), as_time(row.expires_at)) for row in lifetime]
    assert (expires - created).total_seconds() == minutes * 60

    assert (await complete(api, token, "Brand-new-pass-1")).status == 200
    assert (await login(api, patient["email"], "Brand-new-pass-1")).status == 200
    assert (await login(api, patient["email"], DEMO_PASSWORD)).status == 401


async def test_a_reset_token_works_once(api):
    patient = await api.create_patient()
    await request_reset(api, patient)
    token = await newest_reset_token(api, patient)
    assert (await complete(api, token)).status == 200
    reply = await complete(api, token)
    assert reply.status == 400 and reply.body["error"]["code"] == "invalid_token"


async def test_an_expired_reset_token_is_refused(api, db):
    patient = await api.create_patient()
    await request_reset(api, patient)
    token = await newest_reset_token(api, patient)
    await db.execute("UPDATE password_reset_tokens SET expires_at = created_at WHERE account_id = "
                     "(SELECT id FROM portal_accounts WHERE username = :u)", u=patient["email"])
    assert (await complete(api, token)).status == 400


async def test_a_newer_reset_link_voids_the_older_one(api):
    patient = await api.create_patient()
    await request_reset(api, patient)
    older = await newest_reset_token(api, patient)
    await request_reset(api, patient)
    assert (await complete(api, older)).status == 400
    assert (await complete(api, await newest_reset_token(api, patient))).status == 200


async def test_reset_answers_the_same_without_a_match_or_an_account(api):
    no_account = await api.create_patient(portal_account=False)
    stranger = {"first_name": "Nobody", "last_name": f"Here{api.unique()}", "date_of_birth": "1970-01-01",
                "email": f"nobody.{api.unique()}@example.org"}
    await request_reset(api, no_account)
    await request_reset(api, stranger)
    assert await api.outbox(no_account["email"]) == []
    assert await api.outbox(stranger["email"]) == []


async def test_at_most_three_reset_links_a_day(api):
    patient = await api.create_patient()
    for _ in range(ISSUES_PER_DAY + 1):
        await request_reset(api, patient)
    assert len(await api.outbox(patient["email"])) == ISSUES_PER_DAY


@pytest.mark.parametrize("body, field", [
    ({"token": "x", "new_password": "short"}, "new_password"),
    ({"new_password": "long-enough-1"}, "token"),
])
async def test_complete_reset_checks_its_fields(api, body, field):
    reply = await api.post("/accounts/password-reset/complete", body, token=None)
    assert reply.status == 422 and field in reply.body["error"]["fields"]


async def test_an_unknown_reset_token_is_a_400(api):
    assert (await complete(api, "not-a-token")).status == 400


async def test_username_reminder_goes_to_the_email_on_file(api):
    patient = await api.create_patient()
    reply = await api.post("/accounts/username-reminder", api.identity_of(patient), token="actions")
    assert (reply.status, reply.body) == (202, {"status": "accepted"})
    [message] = await api.outbox(patient["email"])
    assert patient["email"] in message["body"] and "username" in message["body"].lower()

    stranger = api.identity_of(patient, first_name="Someone")
    assert (await api.post("/accounts/username-reminder", stranger, token="actions")).status == 202
    assert len(await api.outbox(patient["email"])) == 1


async def test_the_fifth_failure_locks_and_a_completed_reset_unlocks(api):
    patient = await api.create_patient(password=DEMO_PASSWORD)
    limit = facts()["login"]["failed_attempts_before_lockout"]
    assert (await login(api, patient["email"], DEMO_PASSWORD)).status == 200
    for _ in range(limit - 1):
        assert (await login(api, patient["email"], "wrong-password")).status == 401
    locked = await login(api, patient["email"], "wrong-password")
    assert locked.status == 423
    message = locked.body["error"]["message"]
    assert "temporarily locked" in message and "reset" in message.lower() and phone("mychart") in message
    assert (await login(api, patient["email"], DEMO_PASSWORD)).status == 423  # even the right password
    assert any("locked" in m["subject"] for m in await api.outbox(patient["email"]))

    await request_reset(api, patient)
    assert (await complete(api, await newest_reset_token(api, patient), "After-the-lock-1")).status == 200
    assert (await login(api, patient["email"], "After-the-lock-1")).status == 200


async def test_success_resets_the_failure_count(api):
    patient = await api.create_patient(password=DEMO_PASSWORD)
    limit = facts()["login"]["failed_attempts_before_lockout"]
    for _ in range(limit - 1):
        await login(api, patient["email"], "wrong-password")
    assert (await login(api, patient["email"], DEMO_PASSWORD)).status == 200
    assert (await login(api, patient["email"], "wrong-password")).status == 401


async def test_unknown_usernames_behave_exactly_like_real_ones(api, db):
    patient = await api.create_patient(password=DEMO_PASSWORD)
    nobody = f"nobody.{api.unique()}@example.org"
    limit = facts()["login"]["failed_attempts_before_lockout"]
    for _ in range(limit):
        real = await login(api, patient["email"], "wrong-password")
        fake = await login(api, nobody, "wrong-password")
        assert (real.status, real.body) == (fake.status, fake.body)
    assert real.status == 423
    assert await db.tables_containing(nobody) == []


async def test_login_needs_both_fields(api):
    reply = await api.post("/accounts/login", {"username": "someone@example.org"}, token=None)
    assert reply.status == 422 and "password" in reply.body["error"]["fields"]


async def test_a_conversation_gets_five_identity_checks_an_hour(api):
    patient = await api.create_patient()
    conversation = f"conversation-{api.unique()}"
    stranger = {"first_name": "Nobody", "last_name": "Here", "date_of_birth": "1970-01-01",
                "email": "nobody@example.org", "conversation_id": conversation}
    paths = ["/access-codes/reissue", "/accounts/password-reset", "/accounts/username-reminder"]
    for i in range(ATTEMPTS_PER_CONVERSATION):
        body = stranger if i % 2 else api.identity_of(patient, conversation_id=conversation)
        assert (await api.post(paths[i % 3], body, token="actions")).status == 202
    for body in (stranger, api.identity_of(patient, conversation_id=conversation)):
        reply = await api.post("/access-codes/reissue", body, token="actions")
        assert reply.status == 429 and reply.body["error"]["code"] == "too_many_attempts"
    other = await api.post("/access-codes/reissue", {**stranger, "conversation_id": conversation + "-2"},
                           token="actions")
    assert other.status == 202
