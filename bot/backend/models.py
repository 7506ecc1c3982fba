"""The backend's tables. The Alembic migration in migrations/versions creates them.

Times are naive UTC: SQLite keeps no time zone, so both databases store the same.
Codes, tokens and passwords are only ever stored as hashes.
"""
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))

SITE_REQUEST_STATUSES = (
    "awaiting_agreement",
    "awaiting_email_confirmation",
    "under_review",
    "approved",
    "denied",
)
OUTBOX_CHANNELS = ("email", "sms")
OUTBOX_STATUSES = ("queued", "sent", "failed")
AUDIT_ACTORS = ("admin", "actions", "public", "system", "agent")
ESCALATION_STATUSES = ("queued", "claimed", "resolved")
REVIEW_STATUSES = ("open", "example_added", "out_of_scope")
FORM_OUTCOMES = ("completed", "abandoned")
ESCALATION_OUTCOMES = ("resolved", "handed_back")
ESCALATION_MESSAGE_SENDERS = ("user", "agent", "system")


def utcnow() -> datetime:
    return datetime.utcnow()


def utc_text(moment: datetime) -> str:
    """A stored (naive UTC) time as ISO 8601 with its zone, for API answers."""
    return moment.isoformat() + "Z"


def _one_of(column: str, values) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class Patient(Base):
    __tablename__ = "patients"
    id = Column(Integer, primary_key=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    date_of_birth = Column(Date, nullable=False, index=True)
    email = Column(String(254))  # lower case
    phone = Column(String(15))  # digits only
    zip = Column(String(10), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class PortalAccount(Base):
    """A MyChart login. Lockout state lives here for accounts that exist."""

    __tablename__ = "portal_accounts"
    id = Column(Integer, primary_key=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=False, unique=True)
    username = Column(String(254), nullable=False, unique=True)  # lower case e-mail
    password_hash = Column(String(200), nullable=False)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class LoginThrottle(Base):
    """Lockout state for usernames that have no account, so they behave like real ones."""

    __tablename__ = "login_throttles"
    username_hash = Column(String(64), primary_key=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    last_failed_at = Column(DateTime, index=True)  # rows idle for a day are purged


class AccessCode(Base):
    __tablename__ = "access_codes"
    id = Column(Integer, primary_key=True)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    voided_at = Column(DateTime)


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("portal_accounts.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    voided_at = Column(DateTime)  # used, or replaced by a newer link


class RateLimitHit(Base):
    """One use of a limited action (identity check, sign-in, site request, lock notice).

    key_hash is a keyed hash of what the use is counted against (a conversation, a client
    address, an e-mail address), so the table holds no personal data.
    """

    __tablename__ = "rate_limit_hits"
    id = Column(Integer, primary_key=True)
    scope = Column(String(32), nullable=False)
    key_hash = Column(String(64), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class Attachment(Base):
    __tablename__ = "attachments"
    id = Column(String(32), primary_key=True)  # random, so ids cannot be enumerated
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    content = Column(LargeBinary, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Site(Base):
    """An existing Avera System Link site; name_key makes the name case/space-insensitive."""

    __tablename__ = "sites"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    name_key = Column(String(200), nullable=False, unique=True)
    address = Column(String(300))
    site_request_id = Column(Integer, ForeignKey("site_requests.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class SiteRequest(Base):
    __tablename__ = "site_requests"
    __table_args__ = (_one_of("status", SITE_REQUEST_STATUSES),)
    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    facility_name = Column(String(200), nullable=False)
    facility_key = Column(String(200), nullable=False, index=True)
    facility_address = Column(String(300))
    agreement_attachment_id = Column(String(32), ForeignKey("attachments.id"))
    administrators = Column(JSON, nullable=False)  # [{name, email, role, phone?}]
    terms_accepted = Column(Boolean, nullable=False)
    requested_by = Column(String(200), nullable=False)
    requester_email = Column(String(254), nullable=False)
    status = Column(String(32), nullable=False)
    denial_reason = Column(Text)
    email_token_hash = Column(String(64), nullable=False, unique=True)
    email_confirmed_at = Column(DateTime)
    agreement_token_hash = Column(String(64), unique=True)  # cleared once the agreement is in
    idempotency_key = Column(String(200), nullable=False, unique=True)
    idempotency_fingerprint = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    decided_at = Column(DateTime)


class Escalation(Base):
    """A conversation handed to a human agent: queued (waiting), claimed, resolved.

    `transcript` is the conversation up to the hand-off (secrets masked); what is
    said afterwards is in escalation_messages.
    """

    __tablename__ = "escalations"
    __table_args__ = (_one_of("status", ESCALATION_STATUSES),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    reason = Column(Text)
    transcript = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default="queued")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    claimed_at = Column(DateTime)
    resolved_at = Column(DateTime)
    reference = Column(String(16), unique=True)  # what the member is told: HD-...
    channel = Column(String(32))  # the Rasa channel the member wrote on (socketio, rest, slack...)
    summary = Column(JSON)  # {topic, tried, answers}: never identity details
    contact = Column(String(254))  # only what the member chose to give
    claimed_by = Column(Integer, ForeignKey("agents.id"))
    outcome = Column(String(16))  # resolved / handed_back
    resolution_note = Column(Text)
    user_left_at = Column(DateTime)
    unclaimed_notice_at = Column(DateTime)  # when the member was told nobody is free yet


class EscalationMessage(Base):
    """One message of an escalated conversation after the hand-off, from the member, an agent or the system."""

    __tablename__ = "escalation_messages"
    __table_args__ = (_one_of("sender", ESCALATION_MESSAGE_SENDERS),)
    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id"), nullable=False, index=True)
    sender = Column(String(8), nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id"))
    text = Column(Text, nullable=False)
    event_key = Column(String(80), unique=True)  # the Rasa event it came from: a retried delivery adds nothing
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Agent(Base):
    """A help-desk agent (or trainer) who signs in to the backend's pages."""

    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(100), nullable=False, unique=True)  # lower case
    display_name = Column(String(100), nullable=False)
    password_hash = Column(String(200), nullable=False)
    roles = Column(JSON, nullable=False)  # ["agent"], ["trainer"] or both
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class AgentSession(Base):
    """A signed-in browser, by the keyed hash of its cookie's token."""

    __tablename__ = "agent_sessions"
    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)


class OutboxMessage(Base):
    """A message written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (_one_of("channel", OUTBOX_CHANNELS), _one_of("status", OUTBOX_STATUSES))
    id = Column(Integer, primary_key=True)
    channel = Column(String(8), nullable=False)
    recipient = Column(String(254), nullable=False, index=True)
    sender = Column(String(254))  # None: SMTP_FROM
    subject = Column(String(300), nullable=False)
    body = Column(Text)  # None once sent
    status = Column(String(8), nullable=False, default="queued", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    last_error = Column(String(200))  # exception class only: messages may hold addresses
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)


class AuditEntry(Base):
    """Who changed what, by ids only: no personal data belongs here."""

    __tablename__ = "audit_log"
    __table_args__ = (_one_of("actor", AUDIT_ACTORS),)
    id = Column(Integer, primary_key=True)
    actor = Column(String(8), nullable=False)
    action = Column(String(64), nullable=False)
    object_type = Column(String(32))
    object_id = Column(String(64))
    agent_id = Column(Integer)  # which agent, when actor is "agent"
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class ReviewConversation(Base):
    """One conversation as the event feed saw it: counts for analytics, state for masking."""

    __tablename__ = "review_conversations"
    sender_id = Column(String(200), primary_key=True)
    channel = Column(String(32))
    started_at = Column(DateTime, nullable=False, index=True)
    last_event_at = Column(DateTime, nullable=False)
    handed_off = Column(Boolean, nullable=False, default=False)
    active_form = Column(String(64))  # the form running now: its answers are masked
    ended_form_run_id = Column(Integer)  # a form that just ended, until we know whether it delivered
    last_turn_id = Column(Integer)
    last_event_key = Column(String(64))  # a redelivered last event is recognised and skipped


class ReviewTurn(Base):
    """One user message and what became of it; answers given inside forms are stored masked."""

    __tablename__ = "review_turns"
    __table_args__ = (_one_of("review_status", REVIEW_STATUSES),)
    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)  # a redelivered event adds nothing
    sender_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(32))
    created_at = Column(DateTime, nullable=False, index=True)
    text = Column(Text, nullable=False)
    masked = Column(Boolean, nullable=False, default=False)
    reply = Column(Text)  # what the bot answered (masked like the message inside a form)
    intent = Column(String(100))  # the best real intent, also when the fallback took the turn
    confidence = Column(Float)
    fell_back = Column(Boolean, nullable=False, default=False)
    followed_by_complaint = Column(Boolean, nullable=False, default=False)
    followed_by_handoff = Column(Boolean, nullable=False, default=False)
    next_intent = Column(String(100))  # what the user's next message was understood as
    review_status = Column(String(16), nullable=False, default="open")
    reviewed_intent = Column(String(100))


class FormRun(Base):
    """A form (access code, reset, site request...) from start to its outcome."""

    __tablename__ = "form_runs"
    __table_args__ = (_one_of("outcome", FORM_OUTCOMES),)
    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)
    sender_id = Column(String(200), nullable=False, index=True)
    form = Column(String(64), nullable=False)
    started_at = Column(DateTime, nullable=False, index=True)
    ended_at = Column(DateTime)
    outcome = Column(String(16))  # None while it runs


class EventFeedPosition(Base):
    """How far the consumer has read the SQL event broker's table (one row)."""

    __tablename__ = "event_feed_position"
    id = Column(Integer, primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
