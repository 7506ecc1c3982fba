"""Password reset links, username reminders, the demo sign-in (lockout after five failures,
limits per client, capped notices, rehashing) and the limits on identity checks."""
import base64
import hashlib
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from bot.backend.security import hash_password, keyed_hash
from bot.backend.services.accounts import ATTEMPTS_PER_CLIENT as LOGINS_PER_CLIENT
from bot.backend.services.accounts import LOCK_NOTICES_PER_ACCOUNT
from bot.backend.services.identity import ATTEMPTS_PER_CLIENT, ATTEMPTS_PER_CONVERSATION, ISSUES_PER_DAY
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
    for i in range(ATTEMPTS_PER_CONVERSATION.max_hits):
        body = stranger if i % 2 else api.identity_of(patient, conversation_id=conversation)
        assert (await api.post(paths[i % 3], body, token="actions")).status == 202
    for body in (stranger, api.identity_of(patient, conversation_id=conversation)):
        reply = await api.post("/access-codes/reissue", body, token="actions")
        assert reply.status == 429 and reply.body["error"]["code"] == "too_many_attempts"
    other = await api.post("/access-codes/reissue", {**stranger, "conversation_id": conversation + "-2"},
                           token="actions")
    assert other.status == 202


async def test_identity_checks_need_a_conversation_and_the_client_address(api):
    patient = await api.create_patient()
    without_address = await api.post("/access-codes/reissue", api.identity_of(patient), token="actions",
                                      headers={"X-Client-Address": ""})
    assert without_address.status == 400 and without_address.body["error"]["code"] == "client_address_required"
    without_conversation = await api.post("/access-codes/reissue", api.identity_of(patient, conversation_id=None),
                                          token="actions")
    assert without_conversation.status == 422 and "conversation_id" in without_conversation.body["error"]["fields"]
    assert await api.outbox(patient["email"]) == []


async def test_a_client_address_gets_a_limited_number_of_identity_checks_whatever_the_conversation(api):
    """A new conversation id per try does not get around the limit: the address is the channel's, not the caller's."""
    stranger = {"first_name": "Nobody", "last_name": "Here", "date_of_birth": "1970-01-01",
                "email": "nobody@example.org"}
    for _ in range(ATTEMPTS_PER_CLIENT.max_hits):
        reply = await api.post("/access-codes/reissue", {**stranger, "conversation_id": f"c-{api.unique()}"},
                               token="actions")
        assert reply.status == 202
    refused = await api.post("/access-codes/reissue", {**stranger, "conversation_id": f"c-{api.unique()}"},
                             token="actions")
    assert refused.status == 429 and phone("mychart") in refused.body["error"]["message"]
    elsewhere = await api.post("/access-codes/reissue", {**stranger, "conversation_id": f"c-{api.unique()}"},
                               token="actions", headers={"X-Client-Address": api.new_client_address()})
    assert elsewhere.status == 202


async def test_the_demo_sign_in_is_off_unless_turned_on(start_backend, api_for):
    api = api_for(start_backend())
    reply = await login(api, "someone@example.org", "any-password-1")
    assert reply.status == 404 and "BACKEND_DEMO_PORTAL" in reply.body["error"]["message"]


async def test_sign_ins_are_limited_per_client_address_before_any_password_is_checked(api, db):
    for _ in range(LOGINS_PER_CLIENT.max_hits):
        assert (await login(api, f"made.up.{api.unique()}@example.org", "wrong-password")).status == 401
    username = f"made.up.{api.unique()}@example.org"
    throttled = await login(api, username, "wrong-password")
    assert throttled.status == 429 and phone("mychart") in throttled.body["error"]["message"]
    username_hash = keyed_hash(api.secret_key, "login:" + username)
    assert await db.rows("SELECT * FROM login_throttles WHERE username_hash = :h", h=username_hash) == []
    api.client_address = api.new_client_address()
    assert (await login(api, username, "wrong-password")).status == 401


async def test_a_forwarded_address_counts_only_from_a_trusted_proxy(start_backend, api_for):
    """Without TRUSTED_PROXIES every X-Forwarded-For is ignored: a client cannot pose as many."""
    api = api_for(start_backend(TRUSTED_PROXIES="", BACKEND_DEMO_PORTAL="true"))
    for _ in range(LOGINS_PER_CLIENT.max_hits):
        api.client_address = api.new_client_address()
        assert (await login(api, f"made.up.{api.unique()}@example.org", "wrong-password")).status == 401
    api.client_address = api.new_client_address()
    assert (await login(api, f"made.up.{api.unique()}@example.org", "wrong-password")).status == 429


async def test_lock_notices_are_capped_per_account(api, db):
    patient = await api.create_patient(password=DEMO_PASSWORD)
    limit = facts()["login"]["failed_attempts_before_lockout"]
    for _ in range(LOCK_NOTICES_PER_ACCOUNT.max_hits + 1):
        for _ in range(limit):
            last = await login(api, patient["email"], "wrong-password")
        assert last.status == 423
        await db.execute("UPDATE portal_accounts SET locked_until = NULL, failed_logins = 0 WHERE patient_id = :id",
                         id=patient["id"])
        api.client_address = api.new_client_address()  # the per-client limit is not what is tested here
    notices = [m for m in await api.outbox(patient["email"]) if "locked" in m["subject"]]
    assert len(notices) == LOCK_NOTICES_PER_ACCOUNT.max_hits


async def test_throttle_rows_of_made_up_usernames_are_purged_after_a_day(api, db):
    username = f"made.up.{api.unique()}@example.org"
    assert (await login(api, username, "wrong-password")).status == 401
    username_hash = keyed_hash(api.secret_key, "login:" + username)
    query = "SELECT failed_logins FROM login_throttles WHERE username_hash = :h"
    assert [row.failed_logins for row in await db.rows(query, h=username_hash)] == [1]
    await db.execute("UPDATE login_throttles SET last_failed_at = :t WHERE username_hash = :h",
                     t=datetime.utcnow() - timedelta(days=2), h=username_hash)
    assert (await login(api, f"someone.else.{api.unique()}@example.org", "wrong-password")).status == 401
    assert await db.rows(query, h=username_hash) == []


def legacy_scrypt_hash(password: str) -> str:
    """A hash as this backend wrote them before argon2."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@pytest.mark.parametrize("old_hash", [legacy_scrypt_hash, PasswordHasher(time_cost=1, memory_cost=8192).hash],
                         ids=["scrypt", "weaker-argon2"])
async def test_an_old_hash_is_replaced_on_sign_in(api, db, old_hash):
    patient = await api.create_patient(password=DEMO_PASSWORD)
    stored = await db.scalar("SELECT password_hash FROM portal_accounts WHERE patient_id = :id", id=patient["id"])
    assert stored.startswith("$argon2id$") and stored.split("$")[3] == hash_password("x").split("$")[3]
    await db.execute("UPDATE portal_accounts SET password_hash = :h WHERE patient_id = :id",
                     h=old_hash(DEMO_PASSWORD), id=patient["id"])
    assert (await login(api, patient["email"], "wrong-password")).status == 401
    assert (await login(api, patient["email"], DEMO_PASSWORD)).status == 200
    rehashed = await db.scalar("SELECT password_hash FROM portal_accounts WHERE patient_id = :id", id=patient["id"])
    assert rehashed.startswith("$argon2id$") and rehashed.split("$")[3] == stored.split("$")[3]
    assert (await login(api, patient["email"], DEMO_PASSWORD)).status == 200
