"""Patient records and their MyChart portal accounts (username = the e-mail on file)."""
import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError
from bot.backend.models import Patient, PortalAccount
from bot.backend.security import hash_password, new_token
from bot.backend.services import audit
from bot.backend.validation import Form


@dataclass(frozen=True)
class NewPatient:
    first_name: str
    last_name: str
    date_of_birth: date
    email: Optional[str]
    phone: Optional[str]
    zip: str
    portal_account: bool
    password: Optional[str]  # for demo logins; a random one otherwise


def parse_new_patient(body: Dict[str, Any]) -> NewPatient:
    form = Form(body)
    patient = NewPatient(
        first_name=form.text("first_name", max_length=100),
        last_name=form.text("last_name", max_length=100),
        date_of_birth=form.date("date_of_birth"),
        email=form.email("email", required=False),
        phone=form.phone("phone"),
        zip=form.zip_code("zip"),
        portal_account=form.boolean("portal_account", default=True),
        password=form.password("password", required=False),
    )
    if patient.portal_account and not patient.email and "email" not in form.errors:
        form.error("email", "required for a portal account")
    elif not (patient.email or patient.phone or "email" in form.errors or "phone" in form.errors):
        form.error("email", "give an e-mail address or a phone number")
    form.check()
    return patient


async def create_patient(session: AsyncSession, new: NewPatient, actor: str) -> int:
    if new.portal_account:
        taken = await session.execute(select(PortalAccount.id).where(PortalAccount.username == new.email))
        if taken.first():
            raise ApiError(409, "A portal account with this username already exists.", code="username_taken")
    patient = Patient(
        first_name=new.first_name,
        last_name=new.last_name,
        date_of_birth=new.date_of_birth,
        email=new.email,
        phone=new.phone,
        zip=new.zip,
    )
    session.add(patient)
    await session.flush()
    audit.record(session, actor, "patient.created", "patient", patient.id)
    if new.portal_account:
        password_hash = await asyncio.to_thread(hash_password, new.password or new_token())
        account = PortalAccount(patient_id=patient.id, username=new.email, password_hash=password_hash)
        session.add(account)
        await session.flush()
        audit.record(session, actor, "portal_account.created", "portal_account", account.id)
    return patient.id
