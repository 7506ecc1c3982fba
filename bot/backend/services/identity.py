"""Identity checks behind the self-service requests (access code, password reset, username).

Callers answer the same whether or not someone matched, and each conversation and each
client address gets a few tries an hour, so the chat cannot be used to find out who is a
patient. Both limits are mandatory: the client address is what the channel saw, which a
chat user cannot choose the way they choose a conversation id.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Dict, Optional

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError
from bot.backend.models import Patient, utcnow
from bot.backend.services.rate_limits import Limit, take
from bot.backend.validation import Form
from bot.facts import phone

ATTEMPTS_PER_CONVERSATION = Limit("identity_conversation", 5, timedelta(hours=1))
# Several people may share an address (a clinic, a household), so it gets more.
ATTEMPTS_PER_CLIENT = Limit("identity_client", 20, timedelta(hours=1))
ISSUES_PER_DAY = 3  # access codes or reset links per patient per day
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    date_of_birth: date
    email: Optional[str]
    phone: Optional[str]  # digits
    conversation_id: str


def parse_identity(body: Dict[str, Any]) -> Identity:
    form = Form(body)
    identity = Identity(
        first_name=form.text("first_name", max_length=100),
        last_name=form.text("last_name", max_length=100),
        date_of_birth=form.date("date_of_birth"),
        email=form.email("email", required=False),
        phone=form.phone("phone"),
        conversation_id=form.text("conversation_id"),  # required: checks are limited per conversation
    )
    if not (identity.email or identity.phone or "email" in form.errors or "phone" in form.errors):
        form.error("email", "give an e-mail address or a phone number")
    form.check()
    return identity


async def count_attempt(session: AsyncSession, secret_key: str, conversation_id: str, client: str) -> None:
    """Count one identity check for the conversation and for the client address; over either limit is a 429."""
    for limit, key in ((ATTEMPTS_PER_CONVERSATION, conversation_id), (ATTEMPTS_PER_CLIENT, client)):
        if not await take(session, secret_key, limit, key):
            raise ApiError(
                429,
                "Too many identity checks from this conversation or this network. Try again in an hour, "
                f"or call MyChart support at {phone('mychart')}.",
                code="too_many_attempts",
            )


async def find_patient(session: AsyncSession, identity: Identity) -> Optional[Patient]:
    """Names (any case) and date of birth must match, and the e-mail or the phone on file."""
    query = (
        select(Patient)
        .where(
            Patient.date_of_birth == identity.date_of_birth,
            func.lower(Patient.first_name) == identity.first_name.lower(),
            func.lower(Patient.last_name) == identity.last_name.lower(),
        )
        .order_by(Patient.id)
    )
    for patient in (await session.execute(query)).scalars():
        if (identity.email and identity.email == patient.email) or (identity.phone and identity.phone == patient.phone):
            return patient
    return None


async def under_daily_limit(session: AsyncSession, owner_column, owner_id: int, created_column) -> bool:
    """Whether fewer than ISSUES_PER_DAY rows were made for this owner in the last 24 hours."""
    query = select(func.count()).where(owner_column == owner_id, created_column >= utcnow() - DAY)
    return (await session.execute(query)).scalar_one() < ISSUES_PER_DAY


async def void_active(session: AsyncSession, model, owner_column, owner_id: int, now) -> None:
    """Void every still-valid code or token of this owner: only the newest one may work."""
    await session.execute(
        update(model).where(owner_column == owner_id, model.voided_at.is_(None)).values(voided_at=now)
    )
