"""Counting uses of limited actions per conversation, per client address, per e-mail address.

What a use is counted against is stored as a keyed hash (no personal data), and
hits older than the longest window are deleted as new ones come in.
"""
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.models import RateLimitHit, utcnow
from bot.backend.security import keyed_hash

RETENTION = timedelta(days=1)  # no limit below has a longer window


@dataclass(frozen=True)
class Limit:
    scope: str
    max_hits: int
    window: timedelta


async def take(session: AsyncSession, secret_key: str, limit: Limit, key: str) -> bool:
    """Count one use against `key`; False, counting nothing, when its allowance is used up."""
    now = utcnow()
    await session.execute(delete(RateLimitHit).where(RateLimitHit.created_at < now - RETENTION))
    key_hash = keyed_hash(secret_key, f"{limit.scope}:{key}")
    query = select(func.count()).where(RateLimitHit.key_hash == key_hash,
                                       RateLimitHit.created_at >= now - limit.window)
    if (await session.execute(query)).scalar_one() >= limit.max_hits:
        return False
    session.add(RateLimitHit(scope=limit.scope, key_hash=key_hash, created_at=now))
    return True


async def seconds_until_free(session: AsyncSession, secret_key: str, limit: Limit, key: str) -> int:
    """How long until `key` may use `limit` again: until its oldest use in the window leaves it
    (a 429's Retry-After, so the user can be told when to try again)."""
    now = utcnow()
    key_hash = keyed_hash(secret_key, f"{limit.scope}:{key}")
    query = select(func.min(RateLimitHit.created_at)).where(RateLimitHit.key_hash == key_hash,
                                                             RateLimitHit.created_at >= now - limit.window)
    oldest = (await session.execute(query)).scalar_one_or_none() or now
    return max(1, math.ceil((oldest + limit.window - now).total_seconds()))
