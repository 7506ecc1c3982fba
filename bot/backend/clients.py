"""Who is on the other end: the client address that rate limits count against.

The action server calls on behalf of a chat user and says who in CLIENT_ADDRESS_HEADER,
which counts only with the actions (or admin) token. Public callers are counted by
the address they connect from (or that a trusted proxy forwarded).
"""
from aiohttp import web

from bot.backend.auth import ADMIN, ACTIONS, actor
from bot.backend.errors import ApiError
from bot.backend.routes.common import settings_of
from bot.client_address import HEADER as CLIENT_ADDRESS_HEADER
from bot.client_address import client_address, parse_address


def forwarded_client(request: web.Request) -> str:
    """The chat user's address as the action server forwarded it; required (400 without it)."""
    address = parse_address(request.headers.get(CLIENT_ADDRESS_HEADER)) if actor(request) in (ACTIONS, ADMIN) else None
    if address is None:
        raise ApiError(400, f"The {CLIENT_ADDRESS_HEADER} header (the chat user's IP address, as the channel saw "
                            "it) is required.", code="client_address_required")
    return address


def public_client(request: web.Request) -> str:
    """The address a public caller connects from, through trusted proxies."""
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                          settings_of(request).trusted_proxies)
