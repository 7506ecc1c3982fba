"""Help-desk agent accounts and their browser sessions.

Passwords are Argon2 hashes (security.hash_password). A session is a random
cookie token stored only as a keyed hash; its CSRF token is derived from it
(so the page can fetch it again after a reload). A session ends on
sign-out or after AGENT_IDLE_MINUTES without a request. Repeated wrong
passwords lock the account for a while; unknown usernames are counted the same
way (in login_throttles), so the answers never tell which usernames exist.
"""
import asyncio
import enum
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import List, Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError
from bot.backend.models import Agent, AgentSession, LoginThrottle, utcnow
from bot.backend.security import (
    UNKNOWN_USER_PASSWORD_HASH,
    hash_password,
    keyed_hash,
    new_token,
    verify_password,
)
from bot.backend.services import audit
from bot.backend.settings import Settings

ROLES = ("agent", "trainer")
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 12


class SignIn(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass(frozen=True)
class SignedIn:
    """The agent behind a request's session cookie."""

    agent_id: int
    username: str
    display_name: str
    roles: List[str]
    token_hash: str
    csrf_token: str


def check_new_agent(username: str, display_name: str, password: str, roles: List[str]) -> None:
    problems = {}
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        problems["username"] = "1 to 100 characters, no spaces"
    if not display_name or len(display_name) > 100:
        problems["display_name"] = "1 to 100 characters"
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = f"at least {MIN_PASSWORD_LENGTH} characters"
    if not roles or any(role not in ROLES for role in roles):
        problems["roles"] = f"one or more of {', '.join(ROLES)}"
    if problems:
        raise ValueError("; ".join(f"{name}: {text}" for name, text in problems.items()))


async def create_agent(session: AsyncSession, username: str, display_name: str, password: str,
                       roles: List[str], actor: str) -> Agent:
    """A new agent account; ValueError when a field is unusable or the username is taken."""
    username = username.strip().lower()
    check_new_agent(username, display_name.strip(), password, roles)
    if (await session.execute(select(Agent.id).where(Agent.username == username))).first():
        raise ValueError(f"username: {username!r} is already taken")
    agent = Agent(username=username, display_name=display_name.strip(),
                  password_hash=await asyncio.to_thread(hash_password, password), roles=list(roles),
                  failed_logins=0)
    session.add(agent)
    await session.flush()
    audit.record(session, actor, "agent.created", "agent", agent.id)
    return agent


async def sign_in(session: AsyncSession, settings: Settings, username: str,
                  password: str) -> Tuple[SignIn, Optional[Agent]]:
    """Check a password, counting failures; a locked account is refused even with the right one."""
    username = username.strip().lower()
    agent = (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()
    counter = agent or await _throttle_for(session, settings, username)
    now = utcnow()
    if counter.locked_until and counter.locked_until > now:
        await asyncio.to_thread(verify_password, password, UNKNOWN_USER_PASSWORD_HASH)  # same cost as a check
        audit.record(session, "public", "agent.sign_in_locked", "agent", agent.id if agent else None)
        return SignIn.LOCKED, None
    stored = agent.password_hash if agent else UNKNOWN_USER_PASSWORD_HASH
    correct, needs_rehash = await asyncio.to_thread(verify_password, password, stored)
    if agent is not None and correct:
        agent.failed_logins, agent.locked_until = 0, None
        if needs_rehash:
            agent.password_hash = await asyncio.to_thread(hash_password, password)
        return SignIn.OK, agent
    counter.failed_logins = (counter.failed_logins or 0) + 1
    if counter.failed_logins >= settings.agent_failed_logins_before_lock:
        counter.failed_logins = 0
        counter.locked_until = now + timedelta(minutes=settings.agent_lock_minutes)
        audit.record(session, "public", "agent.locked", "agent", agent.id if agent else None)
        return SignIn.LOCKED, None
    audit.record(session, "public", "agent.sign_in_failed", "agent", agent.id if agent else None)
    return SignIn.INVALID, None


async def _throttle_for(session: AsyncSession, settings: Settings, username: str) -> LoginThrottle:
    key = keyed_hash(settings.secret_key, "agent:" + username)
    throttle = await session.get(LoginThrottle, key)
    if throttle is None:
        throttle = LoginThrottle(username_hash=key, failed_logins=0)
        session.add(throttle)
    return throttle


async def start_session(session: AsyncSession, settings: Settings, agent: Agent) -> Tuple[str, str]:
    """A new session for a signed-in agent: (cookie token, CSRF token)."""
    token = new_token()
    session.add(AgentSession(token_hash=keyed_hash(settings.secret_key, token), agent_id=agent.id))
    audit.record(session, "agent", "agent.signed_in", "agent", agent.id, agent_id=agent.id)
    return token, csrf_token_for(settings, token)


async def session_agent(session: AsyncSession, settings: Settings, token: str,
                        touch: bool = True) -> Optional[SignedIn]:
    """The agent of a live session, or None; an idle session is ended here."""
    if not token:
        return None
    token_hash = keyed_hash(settings.secret_key, token)
    found = (await session.execute(
        select(AgentSession, Agent).join(Agent, Agent.id == AgentSession.agent_id)
        .where(AgentSession.token_hash == token_hash)
    )).first()
    if found is None:
        return None
    row, agent = found
    now = utcnow()
    if row.last_seen_at + timedelta(minutes=settings.agent_idle_minutes) < now:
        await session.delete(row)
        audit.record(session, "system", "agent.session_expired", "agent", agent.id, agent_id=agent.id)
        return None
    if touch and now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:  # one write a minute is precise enough
        row.last_seen_at = now
    return SignedIn(agent.id, agent.username, agent.display_name, list(agent.roles), token_hash,
                    csrf_token_for(settings, token))


def csrf_token_for(settings: Settings, session_token: str) -> str:
    return keyed_hash(settings.secret_key, "csrf:" + session_token)


def csrf_matches(signed_in: SignedIn, csrf: str) -> bool:
    return bool(csrf) and hmac.compare_digest(csrf.encode(), signed_in.csrf_token.encode())


async def end_session(session: AsyncSession, signed_in: SignedIn) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.token_hash == signed_in.token_hash))
    audit.record(session, "agent", "agent.signed_out", "agent", signed_in.agent_id, agent_id=signed_in.agent_id)


def require_role(signed_in: SignedIn, role: str) -> None:
    if role not in signed_in.roles:
        raise ApiError(403, f"This page is for accounts with the {role} role.")


async def create_agent_in(database_url: str, username: str, display_name: str, password: str,
                          roles: List[str]) -> int:
    """`bot.cli create-agent`: bring the schema up to date and add one agent; returns its id."""
    from bot.backend.db import Database

    database = Database(database_url)
    try:
        await database.migrate()
        async with database.transaction() as session:
            return (await create_agent(session, username, display_name, password, roles, "admin")).id
    finally:
        await database.close()
