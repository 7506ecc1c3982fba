"""Requests for a new Avera System Link site and their review.

awaiting_agreement --(signed agreement uploaded)--> awaiting_email_confirmation
    --(requester confirms the e-mail)--> under_review --(decision)--> approved | denied
The e-mail may be confirmed before the agreement arrives; review starts once both are in.

The e-mails go to an address the requester typed, in the System Link sender's name, so they
are rationed (per client address and per recipient address), their links expire, and text
the requester chose (the facility name) appears only quoted as what the requester entered.
"""
import hashlib
import hmac
import json
import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError, FieldErrors
from bot.backend.models import Attachment, SiteRequest, utc_text, utcnow
from bot.backend.security import keyed_hash, new_token
from bot.backend.services import audit, outbox
from bot.backend.services.rate_limits import Limit, seconds_until_free, take
from bot.backend.services.sites import add_site, site_exists
from bot.backend.settings import Settings
from bot.backend.validation import Form, normalize_name
from bot.facts import facts

REFERENCE_ALPHABET = string.ascii_uppercase + string.digits
REFERENCE_LENGTH = 8
REFERENCE_PATTERN = re.compile(rf"SR-[A-Z0-9]{{{REFERENCE_LENGTH}}}")
AWAITING_AGREEMENT = "awaiting_agreement"
AWAITING_EMAIL = "awaiting_email_confirmation"
UNDER_REVIEW = "under_review"
REQUESTS_PER_CLIENT = Limit("site_request_client", 5, timedelta(days=1))
REQUESTS_PER_RECIPIENT = Limit("site_request_recipient", 3, timedelta(days=1))


def sender() -> str:
    return formataddr(("Avera System Link", facts()["system_link"]["confirmation_sender"]))


@dataclass(frozen=True)
class NewSiteRequest:
    facility_name: str
    facility_address: Optional[str]
    agreement_attachment_id: Optional[str]
    administrators: Tuple[Dict[str, str], ...]
    requested_by: str
    requester_email: str

    @property
    def initial_status(self) -> str:
        return AWAITING_EMAIL if self.agreement_attachment_id else AWAITING_AGREEMENT


def parse_site_request(body: Dict[str, Any]) -> NewSiteRequest:
    form = Form(body)
    facility, address = body.get("facility"), None
    if isinstance(facility, dict):
        facility_form = form.child(facility, "facility")
        name = facility_form.text("name")
        address = facility_form.text("address", required=False, max_length=300)
    else:
        name = form.text("facility")
    address = form.text("facility_address", required=False, max_length=300) or address
    attachment_id = body.get("agreement_attachment_id")
    if attachment_id is not None and not isinstance(attachment_id, str):
        form.error("agreement_attachment_id", "must be an attachment id or null")
    administrators = _parse_administrators(form)
    if body.get("terms_accepted") is not True:
        form.error("terms_accepted", "the terms must be accepted (true)")
    requested_by, requested_by_email = _parse_requester(form)
    requester_email = form.email("requester_email", required=False) or requested_by_email
    form.check()
    return NewSiteRequest(
        facility_name=name,
        facility_address=address,
        agreement_attachment_id=attachment_id,
        administrators=administrators,
        requested_by=requested_by,
        requester_email=requester_email or administrators[0]["email"],
    )


def _parse_administrators(form: Form) -> Tuple[Dict[str, str], ...]:
    items = form.data.get("administrators")
    if not isinstance(items, list) or not items:
        form.error("administrators", "at least one administrator is required")
        return ()
    roles = {role.lower(): role for role in facts()["system_link"]["roles"]}
    administrators: List[Dict[str, str]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            form.error(f"administrators[{i}]", "must be an object with name, email and role")
            continue
        admin = form.child(item, f"administrators[{i}]")
        entry = {"name": admin.text("name"), "email": admin.email("email"), "role": admin.text("role")}
        if entry["role"] is not None:
            entry["role"] = roles.get(entry["role"].lower())
            if entry["role"] is None:
                admin.error("role", "must be one of: " + "; ".join(roles.values()))
        phone = admin.phone("phone")
        if phone:
            entry["phone"] = phone
        administrators.append(entry)
    return tuple(administrators)


def _parse_requester(form: Form) -> Tuple[Optional[str], Optional[str]]:
    requested_by = form.data.get("requested_by")
    if isinstance(requested_by, dict):
        requester = form.child(requested_by, "requested_by")
        return requester.text("name"), requester.email("email", required=False)
    return form.text("requested_by"), None


def fingerprint(body: Dict[str, Any]) -> str:
    """The same JSON body, whatever its key order or spacing, gives the same fingerprint."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def create(session: AsyncSession, settings: Settings, new: NewSiteRequest, idempotency_key: str,
                 body_fingerprint: str, client: str, actor: str) -> Dict[str, str]:
    """Store the request and queue its e-mails; a retried request (same key and body) makes nothing new."""
    query = select(SiteRequest).where(SiteRequest.idempotency_key == idempotency_key)
    earlier = (await session.execute(query)).scalar_one_or_none()
    if earlier is not None:
        if earlier.idempotency_fingerprint != body_fingerprint:
            raise ApiError(422, "This Idempotency-Key was already used with a different request body.",
                           code="idempotency_key_reused")
        return {"reference": earlier.reference, "status": new.initial_status}
    for limit, key in ((REQUESTS_PER_CLIENT, client), (REQUESTS_PER_RECIPIENT, new.requester_email)):
        if not await take(session, settings.secret_key, limit, key):
            wait = await seconds_until_free(session, settings.secret_key, limit, key)
            raise ApiError(429, "Too many site requests from this network or for this e-mail address in a day. "
                                "Retry-After says when to try again.", code="too_many_requests",
                           headers={"Retry-After": str(wait)})
    if await site_exists(session, new.facility_name):
        raise ApiError(409, "This facility already has an Avera System Link site; "
                            "its site administrator can create user accounts.", code="site_exists")
    if new.agreement_attachment_id and await session.get(Attachment, new.agreement_attachment_id) is None:
        raise FieldErrors({"agreement_attachment_id": "no such attachment"})
    email_token = new_token()
    agreement_token = None if new.agreement_attachment_id else new_token()
    request = SiteRequest(
        reference="SR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH)),
        facility_name=new.facility_name,
        facility_key=normalize_name(new.facility_name),
        facility_address=new.facility_address,
        agreement_attachment_id=new.agreement_attachment_id,
        administrators=list(new.administrators),
        terms_accepted=True,
        requested_by=new.requested_by,
        requester_email=new.requester_email,
        status=new.initial_status,
        email_token_hash=keyed_hash(settings.secret_key, email_token),
        agreement_token_hash=agreement_token and keyed_hash(settings.secret_key, agreement_token),
        idempotency_key=idempotency_key,
        idempotency_fingerprint=body_fingerprint,
    )
    session.add(request)
    await session.flush()
    if agreement_token:
        _queue_agreement_request(session, settings, request, agreement_token)
    _queue_email_confirmation(session, settings, request, email_token)
    audit.record(session, actor, "site_request.created", "site_request", request.id)
    return {"reference": request.reference, "status": request.status}


async def find(session: AsyncSession, reference: str, for_update: bool = False) -> SiteRequest:
    reference, request = reference.strip().upper(), None
    if REFERENCE_PATTERN.fullmatch(reference):  # anything else cannot exist: spare the database
        query = select(SiteRequest).where(SiteRequest.reference == reference)
        if for_update:
            query = query.with_for_update()
        request = (await session.execute(query)).scalar_one_or_none()
    if request is None:
        raise ApiError(404, "No site request has this reference.")
    return request


def describe(request: SiteRequest) -> Dict[str, Any]:
    """What the chat may tell anyone who knows the reference: no personal data."""
    view = {
        "reference": request.reference,
        "status": request.status,
        "facility": request.facility_name,
        "created_at": utc_text(request.created_at),
    }
    if request.status == "denied":
        view["denial_reason"] = request.denial_reason
    return view


async def confirm_email(session: AsyncSession, settings: Settings, token: str, actor: str) -> SiteRequest:
    """Confirm the requester's address; clicking the link again changes nothing."""
    query = select(SiteRequest).where(SiteRequest.email_token_hash == keyed_hash(settings.secret_key, token))
    request = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if request is None:
        raise _invalid_link()
    if request.email_confirmed_at is None:
        _check_link_age(settings, request)
        request.email_confirmed_at = utcnow()
        _advance(request)
        audit.record(session, actor, "site_request.email_confirmed", "site_request", request.id)
    return request


async def awaiting_agreement(session: AsyncSession, settings: Settings, reference: str, token: str) -> SiteRequest:
    """The request whose e-mailed upload link this is; the link works until the agreement is in."""
    request = await find(session, reference, for_update=True)
    expected = request.agreement_token_hash
    if not expected or not hmac.compare_digest(expected, keyed_hash(settings.secret_key, token)):
        raise _invalid_link()
    _check_link_age(settings, request)
    return request


def attach_agreement(session: AsyncSession, request: SiteRequest, attachment: Attachment, actor: str) -> None:
    request.agreement_attachment_id = attachment.id
    request.agreement_token_hash = None
    _advance(request)
    audit.record(session, actor, "site_request.agreement_attached", "site_request", request.id)


async def decide(session: AsyncSession, reference: str, approve: bool, reason: Optional[str],
                 actor: str) -> SiteRequest:
    """Approve (the facility gets its site) or deny with a reason; the requester is told either way."""
    request = await find(session, reference, for_update=True)
    if request.status != UNDER_REVIEW:
        raise ApiError(409, f"Only a request under review can be decided; this one is {request.status}.",
                       code="not_under_review")
    if approve:
        if await site_exists(session, request.facility_name):
            raise ApiError(409, "This facility already has an Avera System Link site.", code="site_exists")
        await add_site(session, request.facility_name, request.facility_address, actor, site_request_id=request.id)
        request.status = "approved"
        outcome = "approved. Your site administrators can now log in and add the users for your organization."
    else:
        request.status, request.denial_reason = "denied", reason
        outcome = f"denied, for this reason:\n\n    {reason}"
    request.decided_at = utcnow()
    outbox.queue(
        session, "email", request.requester_email, f"Your Avera System Link site request {request.reference}",
        f"Your request for an Avera System Link site for {_entered(request)} "
        f"(reference {request.reference}) was {outcome}\n",
        sender=sender(),
    )
    audit.record(session, actor, f"site_request.{request.status}", "site_request", request.id)
    return request


def _advance(request: SiteRequest) -> None:
    """Before review, the status follows from what is still missing."""
    if request.status not in (AWAITING_AGREEMENT, AWAITING_EMAIL):
        return
    if request.agreement_attachment_id is None:
        request.status = AWAITING_AGREEMENT
    else:
        request.status = UNDER_REVIEW if request.email_confirmed_at else AWAITING_EMAIL


def _check_link_age(settings: Settings, request: SiteRequest) -> None:
    """The e-mailed links work for BACKEND_LINK_VALID_DAYS after the request was made (410 after)."""
    if utcnow() - request.created_at > timedelta(days=settings.link_valid_days):
        raise ApiError(410, f"This link has expired: links in our e-mails work for {settings.link_valid_days} "
                            "days. Start a new site request in the Avera help desk chat.", code="link_expired")


def _entered(request: SiteRequest) -> str:
    """The facility name quoted as the requester's words, never worded as Avera's own."""
    return f'the facility entered as "{request.facility_name}"'


def _why_you_got_this(settings: Settings) -> str:
    return ("\n\nYou received this e-mail because this address was entered in a request for an Avera System "
            "Link site. The facility name above is quoted as the requester typed it; Avera did not write "
            f"or check it. Links in this e-mail work for {settings.link_valid_days} days. If you did not "
            "make this request, ignore this e-mail.\n")


def _invalid_link() -> ApiError:
    return ApiError(400, "This link is not valid. Use the newest link from our e-mail.", code="invalid_token")


def _queue_email_confirmation(session: AsyncSession, settings: Settings, request: SiteRequest, token: str) -> None:
    link = f"{settings.public_url}/api/v1/site-requests/confirm?token={token}"
    outbox.queue(
        session, "email", request.requester_email,
        f"Confirm your e-mail address for Avera System Link site request {request.reference}",
        f"We received a request for an Avera System Link site for {_entered(request)} "
        f"(reference {request.reference}).\n\n"
        f"Please confirm your e-mail address as soon as possible:\n\n    {link}\n\n"
        "We are unable to complete your site request until your e-mail address is confirmed."
        + _why_you_got_this(settings),
        sender=sender(),
    )


def _queue_agreement_request(session: AsyncSession, settings: Settings, request: SiteRequest, token: str) -> None:
    link = f"{settings.public_url}/api/v1/site-requests/{request.reference}/agreement?token={token}"
    file_types = ", ".join(facts()["system_link"]["agreement_file_types"])
    outbox.queue(
        session, "email", request.requester_email,
        f"Upload the signed site agreement for Avera System Link site request {request.reference}",
        f"Before we can review site request {request.reference} for {_entered(request)}, we need the "
        "site agreement signed by an authorized representative of your facility. Scan the signed "
        f"agreement and upload it here:\n\n    {link}\n\nAccepted file types: {file_types}."
        + _why_you_got_this(settings),
        sender=sender(),
    )
