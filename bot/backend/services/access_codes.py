"""Reissuing MyChart access codes: at most one active code per patient, stored hashed."""
from datetime import timedelta
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.models import AccessCode, Patient, utcnow
from bot.backend.security import keyed_hash, new_access_code
from bot.backend.services import audit, outbox
from bot.backend.services.identity import under_daily_limit, void_active
from bot.backend.settings import Settings
from bot.facts import facts, phone

ACCESS_CODE_VALID_DAYS = 30


async def reissue(session: AsyncSession, settings: Settings, patient: Optional[Patient], actor: str) -> None:
    """Void the patient's codes and send a new one to the contact on file; no match does nothing."""
    code = new_access_code()
    code_hash = keyed_hash(settings.secret_key, code)  # made in both branches, so both take as long
    if patient is None:
        audit.record(session, actor, "access_code.no_match")
        return
    if not await under_daily_limit(session, AccessCode.patient_id, patient.id, AccessCode.created_at):
        audit.record(session, actor, "access_code.daily_limit_reached", "patient", patient.id)
        return
    now = utcnow()
    await void_active(session, AccessCode, AccessCode.patient_id, patient.id, now)
    expires_at = now + timedelta(days=ACCESS_CODE_VALID_DAYS)
    session.add(AccessCode(patient_id=patient.id, code_hash=code_hash, created_at=now, expires_at=expires_at))
    if patient.email:
        outbox.queue(session, "email", patient.email, "Your new Avera MyChart access code",
                     _email_body(code, expires_at.date().isoformat()))
    else:
        outbox.queue(session, "sms", patient.phone, "MyChart access code", _sms_body(code))
    audit.record(session, actor, "access_code.reissued", "patient", patient.id)


def _email_body(code: str, expires_on: str) -> str:
    support = facts()["phone_numbers"]["mychart"]
    return (
        f"Here is your new Avera MyChart access code:\n\n    {code}\n\n"
        "Use it to sign up for Avera MyChart: on the MyChart sign-up page, choose to sign up with "
        "an access code and enter it exactly as shown, together with the details the page asks for.\n\n"
        f"This access code is valid for {ACCESS_CODE_VALID_DAYS} days (until {expires_on}). "
        "Any access code you received before no longer works.\n\n"
        f"If you did not ask for a new code, or need help, call {support['label']} "
        f"at {support['number']} ({support['hours']}).\n"
    )


def _sms_body(code: str) -> str:
    return (
        f"Avera MyChart access code: {code}. Enter it on the MyChart sign-up page within "
        f"{ACCESS_CODE_VALID_DAYS} days. Help: {phone('mychart')}"
    )
