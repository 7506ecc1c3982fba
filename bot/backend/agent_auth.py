"""Agent sign-in for the backend's pages: a session cookie, and a CSRF header on every change.

The cookie is HttpOnly and SameSite=Strict (Secure when BACKEND_PUBLIC_URL is
https); a request that changes something must also carry the session's CSRF
token in the X-CSRF-Token header, which another site cannot read or send.
"""
import functools

from aiohttp import web

from bot.backend.errors import ApiError
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import agents

SESSION_COOKIE = "agent_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def signed_in_agent(request: web.Request) -> agents.SignedIn:
    return request["agent"]


def agent_session(role: str = "agent", touch: bool = True):
    """Let signed-in agents with `role` through: 401 without a live session, 403 without the CSRF token.

    `touch=False` for the live stream: an open console tab alone does not keep a session alive.
    """

    def decorate(handler):
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            token = request.cookies.get(SESSION_COOKIE, "")
            async with db_of(request).transaction() as session:
                agent = await agents.session_agent(session, settings_of(request), token, touch=touch)
            if agent is None:
                raise ApiError(401, "Sign in first (or again: the session ended).", code="not_signed_in")
            if request.method not in SAFE_METHODS and not agents.csrf_matches(agent, request.headers.get(CSRF_HEADER, "")):
                raise ApiError(403, f"The {CSRF_HEADER} header is missing or wrong.", code="csrf")
            agents.require_role(agent, role)
            request["agent"] = agent
            return await handler(request)

        return checked

    return decorate


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict",
                        secure=settings_of(request).secure_cookies, path="/")


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
