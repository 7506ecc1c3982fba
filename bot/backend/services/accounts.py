"""MyChart portal accounts: reset links, username reminders and the (demo) login with lockout.

Unknown usernames are counted and locked exactly like real ones, in login_throttles
keyed by an HMAC of the username, so no answer tells who has an account.
"""
import asyncio
import enum
from datetime import timedelta
from typing import Optional, Tuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError
from bot.backend.models import LoginThrottle, Patient, PasswordResetToken, PortalAccount, utcnow
from bot.backend.security import UNKNOWN_USER_PASSWORD_HASH, hash_password, keyed_hash, new_token, verify_password
from bot.backend.services import audit, outbox
from bot.backend.services.identity import under_daily_limit, void_active
from bot.backend.settings import Settings
from bot.facts import facts, phone

LOCKOUT_DURATION = timedelta(minutes=15)


class LoginOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


def failed_attempts_before_lockout() -> int:
    return facts()["login"]["failed_attempts_before_lockout"]


def reset_link_valid_minutes() -> int:
    return facts()["login"]["reset_link_valid_minutes"]


def locked_message() -> str:
    return (
        "This account is temporarily locked after "
        f"{failed_attempts_before_lockout()} unsuccessful sign-in attempts. "
        f"Reset your password, or call MyChart technical support at {phone('mychart')} (24/7)."
    )


async def send_reset_link(session: AsyncSession, settings: Settings, patient: Optional[Patient], actor: str) -> None:
    """E-mail a single-use reset link to the address on file; a newer link voids older ones."""
    token = new_token()
    token_hash = keyed_hash(settings.secret_key, token)  # made in both branches, so both take as long
    account = await _account_of(session, patient)
    if account is None:
        audit.record(session, actor, "password_reset.no_match")
        return
    if not await under_daily_limit(session, PasswordResetToken.account_id, account.id, PasswordResetToken.created_at):
        audit.record(session, actor, "password_reset.daily_limit_reached", "portal_account", account.id)
        return
    now = utcnow()
    await void_active(session, PasswordResetToken, PasswordResetToken.account_id, account.id, now)
    minutes = reset_link_valid_minutes()
    session.add(PasswordResetToken(account_id=account.id, token_hash=token_hash, created_at=now,
                                   expires_at=now + timedelta(minutes=minutes)))
    link = f"{settings.public_url}/reset-password?token={token}"
    outbox.queue(
        session, "email", patient.email, "Reset your Avera MyChart password",
        f"We received a request to reset the password of your Avera MyChart account.\n\n"
        f"Choose a new password here:\n\n    {link}\n\n"
        f"The link is valid for {minutes} minutes and works once. Resetting your password also "
        "unlocks an account that was locked after too many sign-in attempts.\n\n"
        "If you did not ask for this, ignore this e-mail: your password stays as it is. "
        f"Questions: MyChart technical support, {phone('mychart')} (24/7).\n",
    )
    audit.record(session, actor, "password_reset.link_sent", "portal_account", account.id)


async def send_username(session: AsyncSession, settings: Settings, patient: Optional[Patient], actor: str) -> None:
    account = await _account_of(session, patient)
    if account is None:
        audit.record(session, actor, "username_reminder.no_match")
        return
    outbox.queue(
        session, "email", patient.email, "Your Avera MyChart username",
        f"Your Avera MyChart username is:\n\n    {account.username}\n\n"
        "If you also forgot your password, ask the Avera help desk chat for a reset link "
        f"or call MyChart technical support at {phone('mychart')} (24/7).\n",
    )
    audit.record(session, actor, "username_reminder.sent", "portal_account", account.id)


async def reset_link_state(session: AsyncSession, settings: Settings, token: str) -> str:
    """What the reset page should say about a link: "valid", "expired", or "invalid" (unknown, used, replaced)."""
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == keyed_hash(settings.secret_key, token))
    reset = (await session.execute(query)).scalar_one_or_none()
    if reset is None or reset.voided_at is not None:
        return "invalid"
    return "expired" if reset.expires_at <= utcnow() else "valid"


async def complete_reset(session: AsyncSession, settings: Settings, token: str, new_password: str, actor: str) -> None:
    """Set the new password and unlock the account; the token is spent."""
    now = utcnow()
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == keyed_hash(settings.secret_key, token))
    reset = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if reset is None or reset.voided_at is not None or reset.expires_at <= now:
        raise ApiError(400, "This reset link is invalid, expired or already used. Ask for a new one.",
                       code="invalid_token")
    account = await session.get(PortalAccount, reset.account_id)
    account.password_hash = await asyncio.to_thread(hash_password, new_password)
    account.failed_logins, account.locked_until = 0, None
    reset.voided_at = now
    audit.record(session, actor, "password_reset.completed", "portal_account", account.id)


async def login(session: AsyncSession, settings: Settings, username: str, password: str, actor: str) -> LoginOutcome:
    """Check a password; the fifth failure in a row locks the username for LOCKOUT_DURATION."""
    account = (await session.execute(
        select(PortalAccount).where(PortalAccount.username == username).with_for_update()
    )).scalar_one_or_none()
    state = account or await _throttle(session, keyed_hash(settings.secret_key, "login:" + username))
    now = utcnow()
    if state.locked_until is not None:
        if state.locked_until > now:
            return LoginOutcome.LOCKED
        state.failed_logins, state.locked_until = 0, None
    stored_hash = account.password_hash if account else UNKNOWN_USER_PASSWORD_HASH
    if await asyncio.to_thread(verify_password, password, stored_hash) and account is not None:
        account.failed_logins = 0
        audit.record(session, actor, "login.succeeded", "portal_account", account.id)
        return LoginOutcome.OK
    state.failed_logins += 1
    if state.failed_logins < failed_attempts_before_lockout():
        audit.record(session, actor, "login.failed", *_audit_object(account))
        return LoginOutcome.INVALID
    state.locked_until = now + LOCKOUT_DURATION
    audit.record(session, actor, "login.locked", *_audit_object(account))
    if account is not None:
        await _send_lock_notice(session, account)
    return LoginOutcome.LOCKED


async def _account_of(session: AsyncSession, patient: Optional[Patient]) -> Optional[PortalAccount]:
    """The portal account of a matched patient who has an e-mail on file to send to."""
    if patient is None or not patient.email:
        return None
    query = select(PortalAccount).where(PortalAccount.patient_id == patient.id)
    return (await session.execute(query)).scalar_one_or_none()


async def _throttle(session: AsyncSession, username_hash: str) -> LoginThrottle:
    throttle = await session.get(LoginThrottle, username_hash, with_for_update=True)
    if throttle is None:
        throttle = LoginThrottle(username_hash=username_hash, failed_logins=0)
        session.add(throttle)
    return throttle


def _audit_object(account: Optional[PortalAccount]) -> Tuple[str, Optional[int]]:
    return ("portal_account", account.id) if account else ("login_throttle", None)


async def _send_lock_notice(session: AsyncSession, account: PortalAccount) -> None:
    patient = await session.get(Patient, account.patient_id)
    minutes = int(LOCKOUT_DURATION.total_seconds() // 60)
    outbox.queue(
        session, "email", patient.email, "Your Avera MyChart account is temporarily locked",
        f"Your Avera MyChart account was temporarily locked after {failed_attempts_before_lockout()} "
        f"unsuccessful sign-in attempts. It unlocks by itself in {minutes} minutes.\n\n"
        "To unlock it now, reset your password: ask the Avera help desk chat for a reset link, "
        f"or call MyChart technical support at {phone('mychart')} (24/7).\n",
    )
