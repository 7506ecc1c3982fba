"""Avera System Link site requests: validation, idempotency, the way from request to decision, and
what keeps the form from being a phishing relay (limits, quoted requester text, expiring links)."""
import asyncio
import urllib.parse
from datetime import datetime, timedelta

import aiohttp
import pytest

from bot.backend.services.site_requests import REQUESTS_PER_CLIENT, REQUESTS_PER_RECIPIENT
from bot.facts import facts

pytestmark = pytest.mark.asyncio
PDF = b"%PDF-1.4\n%%EOF\n"
EXE = b"MZ\x90\x00" + bytes(60)
CONFIRM_PATH = "/api/v1/site-requests/confirm"


def upload(content: bytes, filename: str = "agreement.pdf") -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", content, filename=filename)
    return data


async def status_of(api, reference: str) -> str:
    reply = await api.get(f"/site-requests/{reference}", token="actions")
    assert reply.status == 200, reply.body
    return reply.body["status"]


async def mails(api, to: str):
    """The confirmation and agreement e-mails to the requester, by kind."""
    by_kind = {}
    for message in await api.outbox(to):
        kind = "confirm" if "/site-requests/confirm?" in message["body"] else "agreement"
        by_kind[kind] = message
    return by_kind


async def test_sites_are_found_by_facility_name_ignoring_case_and_spaces(api):
    for name, exists in (("Avera Demo Clinic", True), ("  avera   demo CLINIC ", True), ("No Such Clinic", False)):
        reply = await api.get("/sites?facility=" + urllib.parse.quote(name), token="actions")
        assert (reply.status, reply.body) == (200, {"exists": exists})
    assert (await api.get("/sites", token="actions")).status == 422


async def test_from_request_to_approval(api):
    requester = f"requester.{api.unique()}@example.org"
    created = await api.site_request(requested_by={"name": "Pat Lee", "email": requester})
    assert created.status == 201
    reference = created.body["reference"]
    assert reference.startswith("SR-") and created.body["status"] == "awaiting_agreement"

    sent = await mails(api, requester)
    sender = facts()["system_link"]["confirmation_sender"]
    assert {kind: sender in message["from"] for kind, message in sent.items()} == {"confirm": True, "agreement": True}
    assert "confirm" in sent["confirm"]["body"].lower()
    agreement_path = f"/api/v1/site-requests/{reference}/agreement"
    agreement_token = api.link_token(sent["agreement"]["body"], agreement_path)
    confirm_token = api.link_token(sent["confirm"]["body"], CONFIRM_PATH)

    view = (await api.get(f"/site-requests/{reference.lower()}", token="actions")).body
    assert set(view) == {"reference", "status", "facility", "created_at"}  # nothing personal

    agreement_url = f"/site-requests/{reference}/agreement?token="
    assert (await api.call("GET", agreement_url + agreement_token, token=None)).status == 200  # the upload page
    assert (await api.call("POST", agreement_url + "wrong", token=None, data=upload(PDF))).status == 400
    assert (await api.call("POST", agreement_url + agreement_token, token=None, data=upload(EXE))).status == 415
    assert await status_of(api, reference) == "awaiting_agreement"
    uploaded = await api.call("POST", agreement_url + agreement_token, token=None, data=upload(PDF))
    assert (uploaded.status, uploaded.body["status"]) == (200, "awaiting_email_confirmation")
    assert (await api.call("POST", agreement_url + agreement_token, token=None, data=upload(PDF))).status == 400

    assert (await api.get("/site-requests/confirm?token=wrong", token=None)).status == 400
    confirmed = await api.get("/site-requests/confirm?token=" + confirm_token, token=None)
    assert (confirmed.status, confirmed.body["status"]) == (200, "under_review")
    assert "confirmed" in confirmed.body["message"]
    page = await api.get("/site-requests/confirm?token=" + confirm_token, token=None,
                         headers={"Accept": "text/html"})
    assert page.status == 200 and "confirmed" in page.body and "<html" in page.body

    decision = f"/site-requests/{reference}/decision"
    assert (await api.post(decision, {"approve": True}, token="actions")).status == 403
    approved = await api.post(decision, {"approve": True})
    assert (approved.status, approved.body["status"]) == (200, "approved")
    assert (await api.post(decision, {"approve": False, "reason": "late"})).status == 409
    assert any("approved" in m["body"] for m in await api.outbox(requester) if m["body"])

    facility = view["facility"]
    assert (await api.get("/sites?facility=" + urllib.parse.quote(facility), token="actions")).body["exists"]
    again = await api.site_request(facility=facility)
    assert again.status == 409 and again.body["error"]["code"] == "site_exists"


async def test_confirming_first_waits_for_the_agreement_then_a_denial_gives_its_reason(api):
    admin = f"admin.{api.unique()}@example.org"
    created = await api.site_request(  # as the chat sends it: plain names, mail goes to the administrator
        facility=f"Lakeside Clinic {api.unique()}", requested_by="Morgan Reyes",
        administrators=[{"name": "Morgan Reyes", "email": admin, "role": "clinical staff"}],
    )
    assert created.status == 201
    reference = created.body["reference"]
    sent = await mails(api, admin)
    confirmed = await api.get("/site-requests/confirm?token=" + api.link_token(sent["confirm"]["body"], CONFIRM_PATH),
                              token=None)
    assert confirmed.body["status"] == "awaiting_agreement" and "agreement" in confirmed.body["message"]
    agreement_path = f"/api/v1/site-requests/{reference}/agreement"
    token = api.link_token(sent["agreement"]["body"], agreement_path)
    uploaded = await api.call("POST", f"/site-requests/{reference}/agreement?token={token}", token=None,
                              data=upload(PDF))
    assert uploaded.body["status"] == "under_review"

    decision = f"/site-requests/{reference}/decision"
    missing_reason = await api.post(decision, {"approve": False})
    assert missing_reason.status == 422 and "reason" in missing_reason.body["error"]["fields"]
    denied = await api.post(decision, {"approve": False, "reason": "The site agreement is not signed."})
    assert denied.status == 200
    view = (await api.get(f"/site-requests/{reference}", token="actions")).body
    assert (view["status"], view["denial_reason"]) == ("denied", "The site agreement is not signed.")
    assert any("not signed" in (m["body"] or "") for m in await api.outbox(admin))


async def test_with_an_uploaded_agreement_the_request_waits_only_for_the_email(api):
    attachment = await api.call("POST", "/attachments", token="actions", data=upload(PDF))
    requester = f"req.{api.unique()}@example.org"
    created = await api.site_request(agreement_attachment_id=attachment.body["id"], requester_email=requester,
                                     facility={"name": f"Hilltop Clinic {api.unique()}", "address": "1 Hill Rd"})
    assert (created.status, created.body["status"]) == (201, "awaiting_email_confirmation")
    assert set(await mails(api, requester)) == {"confirm"}
    decision = await api.post(f"/site-requests/{created.body['reference']}/decision", {"approve": True})
    assert decision.status == 409 and decision.body["error"]["code"] == "not_under_review"


async def test_the_same_idempotency_key_and_body_make_one_request(api, db):
    key = f"key-{api.unique()}"
    requester = f"once.{api.unique()}@example.org"
    fields = {"facility": f"Once Clinic {api.unique()}", "requester_email": requester, "requested_by": "Pat Lee",
              "administrators": [{"name": "Pat Lee", "email": requester, "role": "Biller"}]}
    first = await api.site_request(key, **fields)
    second, third = await asyncio.gather(api.site_request(key, **fields), api.site_request(key, **fields))
    assert first.status == second.status == third.status == 201
    assert first.body == second.body == third.body
    assert await db.scalar("SELECT count(*) FROM site_requests WHERE idempotency_key = :k", k=key) == 1
    assert len(await api.outbox(requester)) == 2  # one agreement link, one confirmation

    other_body = await api.site_request(key, **{**fields, "facility": "Another Clinic"})
    assert other_body.status == 422 and other_body.body["error"]["code"] == "idempotency_key_reused"


async def test_concurrent_first_requests_with_one_key_make_one_request(api, db):
    key = f"key-{api.unique()}"
    fields = {"facility": f"Race Clinic {api.unique()}", "requested_by": "Pat Lee",
              "administrators": [{"name": "Pat Lee", "email": "pat.lee@example.org", "role": "Biller"}]}
    replies = await asyncio.gather(*(api.site_request(key, **fields) for _ in range(4)))
    assert {reply.status for reply in replies} == {201}
    assert len({reply.body["reference"] for reply in replies}) == 1
    assert await db.scalar("SELECT count(*) FROM site_requests WHERE idempotency_key = :k", k=key) == 1


async def test_tokens_are_stored_hashed(api, db):
    requester = f"hash.{api.unique()}@example.org"
    created = await api.site_request(requester_email=requester)
    reference = created.body["reference"]
    sent = await mails(api, requester)
    for token in (api.link_token(sent["confirm"]["body"], CONFIRM_PATH),
                  api.link_token(sent["agreement"]["body"], f"/api/v1/site-requests/{reference}/agreement")):
        assert await db.tables_containing(token) == ["outbox"]


@pytest.mark.parametrize("change, field", [
    ({"terms_accepted": False}, "terms_accepted"),
    ({"terms_accepted": "yes"}, "terms_accepted"),
    ({"administrators": []}, "administrators"),
    ({"administrators": "Morgan"}, "administrators"),
    ({"administrators": [{"name": "Morgan", "email": "m@example.org", "role": "Janitor"}]}, "administrators[0].role"),
    ({"administrators": [{"name": "Morgan", "email": "nope", "role": "Provider"}]}, "administrators[0].email"),
    ({"administrators": ["Morgan"]}, "administrators[0]"),
    ({"facility": ""}, "facility"),
    ({"facility": {"address": "1 Main St"}}, "facility.name"),
    ({"facility": 7}, "facility"),
    ({"requested_by": None}, "requested_by"),
    ({"requested_by": {"email": "x@example.org"}}, "requested_by.name"),
    ({"agreement_attachment_id": "no-such-attachment"}, "agreement_attachment_id"),
    ({"agreement_attachment_id": 12}, "agreement_attachment_id"),
])
async def test_invalid_requests_are_a_422_naming_the_field(api, change, field):
    reply = await api.site_request(**change)
    assert reply.status == 422, reply.body
    assert field in reply.body["error"]["fields"]


async def test_the_idempotency_key_is_required(api):
    reply = await api.post("/site-requests", {"facility": "X"}, token="actions")
    assert reply.status == 422 and "Idempotency-Key" in reply.body["error"]["fields"]


async def test_unknown_references_are_a_404(api):
    assert (await api.get("/site-requests/SR-NOSUCH00", token="actions")).status == 404
    assert (await api.post("/site-requests/SR-NOSUCH00/decision", {"approve": True})).status == 404
    reply = await api.call("POST", "/site-requests/SR-NOSUCH00/agreement?token=x", token=None, data=upload(PDF))
    assert reply.status == 404


async def test_site_requests_are_limited_per_recipient_address(api):
    """The form cannot be used to flood one mailbox with mail in the System Link sender's name."""
    victim = f"victim.{api.unique()}@example.org"
    for _ in range(REQUESTS_PER_RECIPIENT.max_hits):
        api.client_address = api.new_client_address()
        assert (await api.site_request(requester_email=victim)).status == 201
    api.client_address = api.new_client_address()
    refused = await api.site_request(requester_email=victim)
    assert refused.status == 429 and refused.body["error"]["code"] == "too_many_requests"
    # The oldest of the day's requests leaves the 24-hour window first: that is when to try again.
    assert 24 * 3600 - 120 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert len(await api.outbox(victim)) == 2 * REQUESTS_PER_RECIPIENT.max_hits  # confirmation + agreement each


async def test_site_requests_are_limited_per_client_address(api):
    for _ in range(REQUESTS_PER_CLIENT.max_hits):
        assert (await api.site_request()).status == 201
    assert (await api.site_request()).status == 429
    api.client_address = api.new_client_address()
    assert (await api.site_request()).status == 201


async def test_site_requests_need_the_client_address(api):
    reply = await api.site_request(headers={"X-Client-Address": "not an address"})
    assert reply.status == 400 and reply.body["error"]["code"] == "client_address_required"


async def test_requester_text_is_quoted_as_theirs_not_written_as_ours(api):
    requester = f"requester.{api.unique()}@example.org"
    lure = f"Your Avera account is suspended, call 1-900-555-0100 now {api.unique()}"
    assert (await api.site_request(facility=lure, requester_email=requester)).status == 201
    for message in await api.outbox(requester):
        body = message["body"]
        assert body.count(lure) == 1 and f'entered as "{lure}"' in body
        assert "quoted as the requester typed it" in body and "did not write" in body


async def test_email_links_expire_with_a_clear_410(api, db):
    requester = f"requester.{api.unique()}@example.org"
    reference = (await api.site_request(requester_email=requester)).body["reference"]
    sent = await mails(api, requester)
    assert "work for 7 days" in sent["confirm"]["body"]
    await db.execute("UPDATE site_requests SET created_at = :t WHERE reference = :r",
                     t=datetime.utcnow() - timedelta(days=8), r=reference)
    confirm = await api.get(f"/site-requests/confirm?token={api.link_token(sent['confirm']['body'], CONFIRM_PATH)}",
                            token=None)
    agreement_path = f"/api/v1/site-requests/{reference}/agreement"
    agreement = await api.get(
        f"/site-requests/{reference}/agreement?token={api.link_token(sent['agreement']['body'], agreement_path)}",
        token=None)
    assert confirm.status == 410 and confirm.body["error"]["code"] == "link_expired"
    assert "expired" in confirm.body["error"]["message"] and "new site request" in confirm.body["error"]["message"]
    assert agreement.status == 410  # the upload link opens a page that says so
    assert "This link has expired" in agreement.body and "new site request" in agreement.body
