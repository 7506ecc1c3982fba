"""The hand-off queue: escalations from the bot, claimed, answered and resolved by agents.

Life cycle: queued (waiting) -> claimed (by one agent) -> resolved (outcome
"resolved" with a note, or "handed_back" to the bot). A claim is one
conditional UPDATE, so two agents can never both hold an escalation. Every
change is audited by ids only: message text never goes to the audit log.
"""
import asyncio
import secrets
from datetime import timedelta
from typing import Any, Dict, List, Optional, Set

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.db import Database
from bot.backend.errors import ApiError
from bot.backend.models import Agent, Escalation, EscalationMessage, utc_text, utcnow
from bot.backend.rasa_client import RasaUnavailable
from bot.backend.services import audit
from bot.backend.services.agents import SignedIn
from bot.facts import phone

OPEN_STATUSES = ("queued", "claimed")
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LIST_LIMIT = 200
NO_SUCH_ESCALATION = "There is no escalation with this id."


def new_reference() -> str:
    return "HD-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def unclaimed_notice(reference: str) -> str:
    return (f"Our help-desk agents are all busy right now. You are still in the queue (reference {reference}) "
            f"and an agent will answer here as soon as one is free. If you would rather not wait, call "
            f"MyChart technical support at {phone('mychart')} (24/7).")


def back_with_assistant() -> str:
    return ("You're back with the Avera virtual assistant. Ask me anything about the Avera portals, or "
            f"call MyChart technical support at {phone('mychart')} (24/7).")


class LiveUpdates:
    """Fan-out of queue and message events to the consoles' server-sent event streams (one process)."""

    def __init__(self) -> None:
        self._subscribers: Set[asyncio.Queue] = set()

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def is_subscribed(self, queue: asyncio.Queue) -> bool:
        return queue in self._subscribers

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def publish(self, kind: str, data: Dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a console that stopped reading: drop it, it reconnects and reloads
                self._subscribers.discard(queue)
                continue
            queue.put_nowait((kind, data))


def as_listed(escalation: Escalation, agent_name: Optional[str]) -> Dict[str, Any]:
    """What the queue shows: no transcript, no contact."""
    return {
        "id": escalation.id,
        "reference": escalation.reference,
        "status": escalation.status,
        "channel": escalation.channel,
        "reason": escalation.reason,
        "topic": (escalation.summary or {}).get("topic"),
        "created_at": utc_text(escalation.created_at),
        "claimed_at": utc_text(escalation.claimed_at) if escalation.claimed_at else None,
        "claimed_by": {"id": escalation.claimed_by, "display_name": agent_name} if escalation.claimed_by else None,
        "resolved_at": utc_text(escalation.resolved_at) if escalation.resolved_at else None,
        "outcome": escalation.outcome,
        "user_left_at": utc_text(escalation.user_left_at) if escalation.user_left_at else None,
        "unclaimed_notice_at": utc_text(escalation.unclaimed_notice_at) if escalation.unclaimed_notice_at else None,
    }


def as_message(message: EscalationMessage, agent_name: Optional[str] = None) -> Dict[str, Any]:
    return {
        "id": message.id,
        "escalation_id": message.escalation_id,
        "sender": message.sender,
        "agent_name": agent_name,
        "text": message.text,
        "created_at": utc_text(message.created_at),
    }


async def create(session: AsyncSession, fields: Dict[str, Any], actor: str) -> Escalation:
    escalation = Escalation(
        conversation_id=fields["conversation_id"], channel=fields["channel"], reason=fields["reason"],
        summary=fields["summary"], transcript=fields["transcript"], contact=fields.get("contact"),
        reference=new_reference(), status="queued",
    )
    session.add(escalation)
    await session.flush()
    audit.record(session, actor, "escalation.created", "escalation", escalation.id)
    return escalation


async def _agent_names(session: AsyncSession, ids: Set[int]) -> Dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Agent.id, Agent.display_name).where(Agent.id.in_(ids)))
    return dict(rows.all())


async def listing(session: AsyncSession, status: Optional[str] = None) -> List[Dict[str, Any]]:
    """Open escalations oldest first, or those with one status (resolved: the newest)."""
    query = select(Escalation)
    if status == "resolved":
        query = query.where(Escalation.status == "resolved").order_by(Escalation.resolved_at.desc())
    else:
        statuses = (status,) if status else OPEN_STATUSES
        query = query.where(Escalation.status.in_(statuses)).order_by(Escalation.created_at, Escalation.id)
    escalations = (await session.execute(query.limit(LIST_LIMIT))).scalars().all()
    names = await _agent_names(session, {e.claimed_by for e in escalations if e.claimed_by})
    return [as_listed(e, names.get(e.claimed_by)) for e in escalations]


async def listed(session: AsyncSession, escalation: Escalation) -> Dict[str, Any]:
    names = await _agent_names(session, {escalation.claimed_by} if escalation.claimed_by else set())
    return as_listed(escalation, names.get(escalation.claimed_by))


async def get(session: AsyncSession, escalation_id: int) -> Escalation:
    escalation = await session.get(Escalation, escalation_id)
    if escalation is None:
        raise ApiError(404, NO_SUCH_ESCALATION)
    return escalation


async def detail(session: AsyncSession, escalation: Escalation) -> Dict[str, Any]:
    """Everything an agent reads: the summary, the transcript before the hand-off, the messages since."""
    messages = (await session.execute(
        select(EscalationMessage).where(EscalationMessage.escalation_id == escalation.id)
        .order_by(EscalationMessage.id)
    )).scalars().all()
    names = await _agent_names(session, {m.agent_id for m in messages if m.agent_id})
    return {
        **await listed(session, escalation),
        "summary": escalation.summary or {},
        "contact": escalation.contact,
        "resolution_note": escalation.resolution_note,
        "transcript": escalation.transcript,
        "messages": [as_message(m, names.get(m.agent_id)) for m in messages],
    }


async def claim(session: AsyncSession, escalation_id: int, agent: SignedIn) -> Escalation:
    """Take a waiting escalation; the conditional update makes a second claim lose cleanly."""
    now = utcnow()
    result = await session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status == "queued")
        .values(status="claimed", claimed_by=agent.agent_id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    escalation = await get(session, escalation_id)
    if result.rowcount != 1:
        raise ApiError(409, "This escalation is not waiting any more: another agent claimed it, or it is closed.",
                       code="not_waiting")
    await session.refresh(escalation)
    audit.record(session, "agent", "escalation.claimed", "escalation", escalation.id, agent_id=agent.agent_id)
    return escalation


def check_holder(escalation: Escalation, agent: SignedIn) -> None:
    """Only the agent who claimed an escalation may reply to it, hand it back or resolve it."""
    if escalation.status != "claimed":
        raise ApiError(409, "Claim this escalation first: it is not claimed (or already closed).",
                       code="not_claimed")
    if escalation.claimed_by != agent.agent_id:
        raise ApiError(403, "Another agent has claimed this escalation.", code="claimed_by_another")


async def add_agent_message(session: AsyncSession, escalation: Escalation, agent: SignedIn,
                            text: str) -> EscalationMessage:
    check_holder(escalation, agent)
    message = EscalationMessage(escalation_id=escalation.id, sender="agent", agent_id=agent.agent_id, text=text)
    session.add(message)
    await session.flush()
    audit.record(session, "agent", "escalation.replied", "escalation", escalation.id, agent_id=agent.agent_id)
    return message


async def close(session: AsyncSession, escalation: Escalation, agent: SignedIn, outcome: str,
                note: Optional[str]) -> Escalation:
    """Resolve with a note, or hand the conversation back to the bot."""
    check_holder(escalation, agent)
    now = utcnow()
    escalation.status, escalation.outcome, escalation.resolution_note = "resolved", outcome, note
    escalation.resolved_at = escalation.updated_at = now
    audit.record(session, "agent", f"escalation.{outcome}", "escalation", escalation.id, agent_id=agent.agent_id)
    return escalation


async def open_for_conversation(session: AsyncSession, conversation_id: str) -> Optional[Escalation]:
    return (await session.execute(
        select(Escalation).where(Escalation.conversation_id == conversation_id,
                                 Escalation.status.in_(OPEN_STATUSES))
        .order_by(Escalation.id.desc()).limit(1)
    )).scalar_one_or_none()


async def open_conversation_ids(session: AsyncSession) -> List[str]:
    rows = await session.execute(select(Escalation.conversation_id).where(Escalation.status.in_(OPEN_STATUSES))
                                 .distinct())
    return sorted(row[0] for row in rows)


async def add_user_message(session: AsyncSession, conversation_id: str, text: str,
                           event_key: str) -> Optional[EscalationMessage]:
    """A member's message while paused; None when nothing is open or it was already stored (a retry)."""
    escalation = await open_for_conversation(session, conversation_id)
    if escalation is None:
        return None
    if (await session.execute(select(EscalationMessage.id).where(EscalationMessage.event_key == event_key))).first():
        return None
    escalation.user_left_at = None  # back in the chat
    message = EscalationMessage(escalation_id=escalation.id, sender="user", text=text, event_key=event_key)
    session.add(message)
    await session.flush()
    audit.record(session, "actions", "escalation.user_message", "escalation", escalation.id)
    return message


async def mark_user_left(session: AsyncSession, conversation_id: str) -> Optional[Escalation]:
    escalation = await open_for_conversation(session, conversation_id)
    if escalation is None or escalation.user_left_at is not None:
        return None
    escalation.user_left_at = utcnow()
    audit.record(session, "actions", "escalation.user_left", "escalation", escalation.id)
    return escalation


async def due_for_unclaimed_notice(session: AsyncSession, wait_seconds: float) -> List[Escalation]:
    cutoff = utcnow() - timedelta(seconds=wait_seconds)
    return list((await session.execute(
        select(Escalation).where(Escalation.status == "queued", Escalation.unclaimed_notice_at.is_(None),
                                 Escalation.created_at <= cutoff)
        .order_by(Escalation.created_at).limit(LIST_LIMIT)
    )).scalars().all())


async def mark_unclaimed_notice(session: AsyncSession, escalation_id: int, text: str) -> Optional[Escalation]:
    """Record that the member was told; only if still waiting and not told before."""
    escalation = await session.get(Escalation, escalation_id)
    if escalation is None or escalation.status != "queued" or escalation.unclaimed_notice_at is not None:
        return None
    escalation.unclaimed_notice_at = utcnow()
    session.add(EscalationMessage(escalation_id=escalation.id, sender="system", text=text))
    audit.record(session, "system", "escalation.unclaimed_notice", "escalation", escalation.id)
    return escalation


async def notify_unclaimed(db: Database, rasa, live: LiveUpdates, wait_seconds: float) -> None:
    """One pass: each escalation waiting longer than `wait_seconds` tells its member once; it stays queued."""
    async with db.transaction() as session:
        due = [(e.id, e.conversation_id, e.channel, e.reference)
               for e in await due_for_unclaimed_notice(session, wait_seconds)]
    for escalation_id, conversation_id, channel, reference in due:
        text = unclaimed_notice(reference)
        try:
            await rasa.say_as_assistant(conversation_id, channel, text)
        except RasaUnavailable:  # tried again on the next pass
            continue
        async with db.transaction() as session:
            escalation = await mark_unclaimed_notice(session, escalation_id, text)
            if escalation is not None:
                live.publish("escalation", await listed(session, escalation))
