"""The audit log: every state change, by whom, on which object id. Never personal data."""
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.models import AuditEntry


def record(session: AsyncSession, actor: str, action: str,
           object_type: Optional[str] = None, object_id: Optional[object] = None,
           agent_id: Optional[int] = None) -> None:
    session.add(AuditEntry(
        actor=actor,
        agent_id=agent_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
    ))
