"""The outbox: messages are queued in the same transaction as the change that causes them,
and a background sender delivers the e-mails over SMTP when SMTP_HOST is set.

Without SMTP they stay queued and readable through GET /outbox (the development mail sink).
A body may hold an access code or a reset link, so it is scrubbed once the message is
delivered or has finally failed, and in any case once it is BACKEND_OUTBOX_BODY_SECONDS
old (a message still queued then is marked failed). There is no SMS gateway: text
messages are marked failed at once ("sms_not_configured") and only the sink shows them
until their body is scrubbed.
"""
import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import List, Optional

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.db import Database
from bot.backend.models import OutboxMessage, utc_text, utcnow
from bot.backend.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 20
SMTP_TIMEOUT_SECONDS = 20
LIST_LIMIT = 200
SMS_NOT_CONFIGURED = "sms_not_configured"
BODY_EXPIRED = "body_expired"


def queue(session: AsyncSession, channel: str, to: str, subject: str, body: str,
          sender: Optional[str] = None) -> None:
    message = OutboxMessage(channel=channel, recipient=to.lower(), sender=sender, subject=subject, body=body)
    if channel == "sms":
        message.status, message.last_error = "failed", SMS_NOT_CONFIGURED
        log.warning("a text message was not sent: SMS is not configured (only e-mail is delivered)")
    session.add(message)


async def scrub_old_bodies(db: Database, max_age_seconds: float) -> int:
    """Erase the bodies older than `max_age_seconds`; a message not delivered by then never will be."""
    cutoff = utcnow() - timedelta(seconds=max_age_seconds)
    async with db.transaction() as session:
        old = (OutboxMessage.created_at < cutoff, OutboxMessage.body.is_not(None))
        await session.execute(update(OutboxMessage).where(*old, OutboxMessage.status == "queued")
                              .values(status="failed", last_error=BODY_EXPIRED))
        scrubbed = await session.execute(update(OutboxMessage).where(*old).values(body=None))
        return scrubbed.rowcount


async def scrub_bodies_forever(db: Database, max_age_seconds: float) -> None:
    """Run scrub_old_bodies often enough that no body outlives its age by more than a minute."""
    while True:
        try:
            if scrubbed := await scrub_old_bodies(db, max_age_seconds):
                log.info("outbox: scrubbed the bodies of %d old messages", scrubbed)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be away for a while: keep going
            log.warning("outbox scrubber: %s", type(error).__name__)
        await asyncio.sleep(min(60.0, max(0.2, max_age_seconds / 4)))


async def list_messages(session: AsyncSession, to: Optional[str]) -> List[dict]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(LIST_LIMIT)
    if to:
        query = query.where(OutboxMessage.recipient == to.lower())
    rows = (await session.execute(query)).scalars().all()
    return [
        {
            "id": m.id,
            "channel": m.channel,
            "to": m.recipient,
            "from": m.sender,
            "subject": m.subject,
            "body": m.body,
            "status": m.status,
            "error": m.last_error,
            "attempts": m.attempts,
            "created_at": utc_text(m.created_at),
            "sent_at": utc_text(m.sent_at) if m.sent_at else None,
        }
        for m in reversed(rows)
    ]


@dataclass(frozen=True)
class _Claimed:
    id: int
    to: str
    sender: Optional[str]
    subject: str
    body: str
    attempts: int


class OutboxSender:
    """Delivers due e-mails; each claim pushes the next attempt back (backoff), so a crash retries."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings

    async def run(self) -> None:
        while True:
            try:
                for message in await self._claim_due():
                    await self._deliver(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database may be away for a while: keep going
                log.warning("outbox sender: %s", type(error).__name__)
            await asyncio.sleep(self.settings.outbox_poll_seconds)

    async def _claim_due(self) -> List[_Claimed]:
        now = utcnow()
        async with self.db.transaction() as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == "queued", OutboxMessage.channel == "email",
                       OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(BATCH_SIZE)
                .with_for_update(skip_locked=True)
            )
            due = (await session.execute(query)).scalars().all()
            for message in due:
                message.attempts += 1
                backoff = self.settings.outbox_retry_seconds * 2 ** (message.attempts - 1)
                message.next_attempt_at = now + timedelta(seconds=backoff)
            return [_Claimed(m.id, m.recipient, m.sender, m.subject, m.body, m.attempts) for m in due]

    async def _deliver(self, message: _Claimed) -> None:
        error = None
        try:
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError) as exc:
            error = type(exc).__name__
        async with self.db.transaction() as session:
            row = await session.get(OutboxMessage, message.id)
            if error is None:
                row.status, row.sent_at, row.body, row.last_error = "sent", utcnow(), None, None
                log.info("outbox message %s sent", message.id)
                return
            row.last_error = error
            if message.attempts >= MAX_ATTEMPTS:
                row.status, row.body = "failed", None
            log.warning("outbox message %s not sent (attempt %s): %s", message.id, message.attempts, error)

    def _send(self, message: _Claimed) -> None:
        email = EmailMessage()
        email["From"] = message.sender or self.settings.smtp_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(email)
