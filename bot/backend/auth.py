"""Bearer tokens: the admin token may call everything, the actions token what the action server needs."""
import functools
import hmac
from typing import Optional

from aiohttp import web

from bot.backend.appkeys import SETTINGS
from bot.backend.errors import ApiError
from bot.backend.settings import Settings

ADMIN, ACTIONS, PUBLIC = "admin", "actions", "public"


def actor(request: web.Request) -> str:
    """Who is calling, for the audit log: the role its token proved, else public."""
    return request.get("actor", PUBLIC)


def allow(role: str):
    """Let callers with `role`'s token (or the admin token) through; 401/403 the rest."""

    def decorate(handler):
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            caller = token_role(request.config_dict[SETTINGS], bearer(request))
            if caller is None:
                raise ApiError(401, "A valid bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
            if caller != ADMIN and caller != role:
                raise ApiError(403, "This token may not call this endpoint.")
            request["actor"] = caller
            return await handler(request)

        return checked

    return decorate


def bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def token_role(settings: Settings, token: str) -> Optional[str]:
    if token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return ADMIN
    if token and hmac.compare_digest(token.encode(), settings.actions_token.encode()):
        return ACTIONS
    return None
