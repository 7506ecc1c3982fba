"""Reissuing MyChart access codes: hashed, one active per patient, limited, revealing nobody."""
import re

import pytest

from bot.backend.security import keyed_hash
from bot.backend.services.identity import ISSUES_PER_DAY

pytestmark = pytest.mark.asyncio
CODE = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}\b")


async def reissue(api, body):
    return await api.post("/access-codes/reissue", body, token="actions")


async def test_a_match_gets_a_new_code_by_email_stored_only_as_a_hash(api, db):
    patient = await api.create_patient()
    # Names in another case and with spaces, the e-mail in capitals: still the same person.
    reply = await reissue(api, api.identity_of(patient, first_name=" avery ", last_name=patient["last_name"].upper(),
                                           email=patient["email"].upper()))
    assert (reply.status, reply.body) == (202, {"status": "accepted"})

    [message] = await api.outbox(patient["email"])
    assert message["channel"] == "email" and message["status"] == "queued"
    assert "MyChart access code" in message["body"] and "sign up" in message["body"]
    code = CODE.search(message["body"]).group(0)
    stored = await db.rows("SELECT code_hash, expires_at, voided_at FROM access_codes WHERE patient_id = :id",
                           id=patient["id"])
    assert [(row.code_hash, row.voided_at) for row in stored] == [(keyed_hash(api.secret_key, code), None)]
    assert await db.tables_containing(code) == ["outbox"]


async def test_a_match_by_phone_digits_counts_too(api):
    patient = await api.create_patient(phone="(605) 555-0150")
    reply = await reissue(api, api.identity_of(patient, email=None, phone="+1 605 555 0150"))
    assert reply.status == 202
    assert len(await api.outbox(patient["email"])) == 1


async def test_reissuing_voids_the_old_code(api, db):
    patient = await api.create_patient()
    await reissue(api, api.identity_of(patient))
    await reissue(api, api.identity_of(patient))
    rows = await db.rows("SELECT voided_at FROM access_codes WHERE patient_id = :id ORDER BY id", id=patient["id"])
    assert [row.voided_at is None for row in rows] == [False, True]
    first, second = [CODE.search(m["body"]).group(0) for m in await api.outbox(patient["email"])]
    assert first != second


async def test_no_match_answers_the_same_and_sends_nothing(api):
    """The same answer either way (bench/identity_timing.py measures that it also takes as long)."""
    patient = await api.create_patient()
    stranger = {"first_name": "Nobody", "last_name": f"Here{api.unique()}", "date_of_birth": "1990-07-04",
                "email": f"nobody.{api.unique()}@example.org", "conversation_id": f"c-{api.unique()}"}
    wrong_birthday = api.identity_of(patient, date_of_birth="1980-05-18")

    match = await reissue(api, api.identity_of(patient))
    no_match = await reissue(api, stranger)
    other_no_match = await reissue(api, wrong_birthday)

    answers = [(reply.status, reply.body) for reply in (match, no_match, other_no_match)]
    assert answers == [(202, {"status": "accepted"})] * 3
    assert await api.outbox(stranger["email"]) == []
    assert len(await api.outbox(patient["email"])) == 1  # only the real match


async def test_at_most_three_codes_a_day(api, db):
    patient = await api.create_patient()
    for _ in range(ISSUES_PER_DAY + 1):
        assert (await reissue(api, api.identity_of(patient))).status == 202
    assert len(await api.outbox(patient["email"])) == ISSUES_PER_DAY
    limited = await db.scalar("SELECT count(*) FROM audit_log WHERE action = 'access_code.daily_limit_reached' "
                              "AND object_id = :id", id=str(patient["id"]))
    assert limited == 1


async def test_without_an_email_on_file_the_code_goes_by_text(api):
    patient = await api.create_patient(email=None, portal_account=False, phone="605-555-0161")
    reply = await reissue(api, {**api.identity_of(patient, email=None), "phone": "6055550161"})
    assert reply.status == 202
    [message] = await api.outbox("6055550161")
    assert message["channel"] == "sms" and CODE.search(message["body"])


@pytest.mark.parametrize("change, field", [
    ({"email": None, "phone": None}, "email"),
    ({"date_of_birth": "02/29/1984"}, "date_of_birth"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"first_name": ""}, "first_name"),
    ({"last_name": 42}, "last_name"),
    ({"email": "not-an-address"}, "email"),
    ({"phone": "12345"}, "phone"),
])
async def test_invalid_identity_is_a_422_naming_the_field(api, change, field):
    body = {"first_name": "Dana", "last_name": "Quill", "date_of_birth": "1984-02-29",
            "email": "dana@example.org", **change}
    reply = await reissue(api, {k: v for k, v in body.items() if v is not None})
    assert reply.status == 422
    assert field in reply.body["error"]["fields"]
