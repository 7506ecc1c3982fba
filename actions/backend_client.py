"""The one async client the actions use to reach the backend API.

All calls share one aiohttp session with a total timeout. Failures are
turned into three exceptions the actions know how to explain to a user;
nothing here ever raises a raw aiohttp error into a conversation.
"""
import asyncio
import json as json_module
import logging
from typing import Any, Dict, List, Optional

import aiohttp

from actions import settings
from bot.client_address import HEADER as CLIENT_ADDRESS_HEADER
from bot.client_address import METADATA_KEY as CLIENT_ADDRESS_KEY

logger = logging.getLogger(__name__)


class BackendUnavailable(Exception):
    """The backend could not be reached, timed out or failed (5xx)."""


class RateLimited(Exception):
    """The backend refused: too many attempts (429); `retry_after` is its Retry-After in seconds, if given."""

    def __init__(self, retry_after: Optional[int] = None):
        super().__init__("backend answered 429")
        self.retry_after = retry_after


def seconds_in(retry_after: Optional[str]) -> Optional[int]:
    """A Retry-After header's delay in seconds (the backend sends no HTTP dates)."""
    return int(retry_after) if retry_after and retry_after.strip().isdigit() else None


class Rejected(Exception):
    """The backend refused the request (4xx); `status` and `body` say why."""

    def __init__(self, status: int, body: Dict[str, Any]):
        super().__init__(f"backend answered {status}")
        self.status = status
        self.body = body

    @property
    def message(self) -> str:
        error = (self.body or {}).get("error") or {}
        fields = error.get("fields") or {}
        details = "; ".join(f"{name}: {text}" for name, text in fields.items())
        return details or error.get("message") or "the request was not accepted"


_session: Optional[aiohttp.ClientSession] = None


def _get_session() -> aiohttp.ClientSession:
    global _session
    if _session is None or _session.closed:
        _session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.BACKEND_TIMEOUT_SECONDS),
            headers={"Authorization": f"Bearer {settings.BACKEND_ACTIONS_TOKEN}"},
        )
    return _session


async def _call(
    method: str,
    path: str,
    json: Optional[Dict[str, Any]] = None,
    params: Optional[Dict[str, str]] = None,
    headers: Optional[Dict[str, str]] = None,
) -> Dict[str, Any]:
    url = f"{settings.BACKEND_URL}/api/v1{path}"
    try:
        async with _get_session().request(
            method, url, json=json, params=params, headers=headers
        ) as response:
            status = response.status
            retry_after = response.headers.get("Retry-After")
            raw = await response.read()
        body = json_module.loads(raw) if raw.strip() else {}
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        logger.warning("Backend call %s %s failed: %s", method, path.split("?")[0], type(error).__name__)
        raise BackendUnavailable() from error
    if status == 429:
        raise RateLimited(seconds_in(retry_after))
    if status >= 500:
        logger.warning("Backend call %s %s answered %s", method, path.split("/")[1], status)
        raise BackendUnavailable()
    if status >= 400:
        raise Rejected(status, body or {})
    return body or {}


def client_address_of(events: List[Dict[str, Any]]) -> Optional[str]:
    """The address the channel saw the latest user message come from (it overrides what a client sends).

    The backend limits identity checks and site requests per client address and refuses
    them without one: a message from a channel that records no address cannot make them.
    """
    for event in reversed(events):
        if event.get("event") == "user":
            return (event.get("metadata") or {}).get(CLIENT_ADDRESS_KEY)
    return None


def _for_client(client_address: Optional[str]) -> Dict[str, str]:
    return {CLIENT_ADDRESS_HEADER: client_address} if client_address else {}


async def reissue_access_code(identity: Dict[str, str], client_address: Optional[str]) -> None:
    await _call("POST", "/access-codes/reissue", json=identity, headers=_for_client(client_address))


async def send_password_reset(identity: Dict[str, str], client_address: Optional[str]) -> None:
    await _call("POST", "/accounts/password-reset", json=identity, headers=_for_client(client_address))


async def send_username_reminder(identity: Dict[str, str], client_address: Optional[str]) -> None:
    await _call("POST", "/accounts/username-reminder", json=identity, headers=_for_client(client_address))


async def facility_has_site(facility: str) -> bool:
    body = await _call("GET", "/sites", params={"facility": facility})
    return bool(body.get("exists"))


async def open_site_request(
    request: Dict[str, Any], idempotency_key: str, client_address: Optional[str]
) -> Dict[str, Any]:
    return await _call(
        "POST", "/site-requests", json=request,
        headers={"Idempotency-Key": idempotency_key, **_for_client(client_address)},
    )


async def upload_grant(conversation_id: str, purpose: str) -> Dict[str, Any]:
    """A credential for the chat widget to upload one file for this conversation (never our token)."""
    return await _call("POST", "/upload-grants", json={"conversation_id": conversation_id, "purpose": purpose})


async def site_request_status(reference: str) -> Optional[Dict[str, Any]]:
    """The request's status, or None when no request has that reference."""
    try:
        return await _call("GET", f"/site-requests/{reference}")
    except Rejected as rejected:
        if rejected.status == 404:
            return None
        raise


async def open_escalation(escalation: Dict[str, Any]) -> Dict[str, Any]:
    """Queue the conversation for a help-desk agent; returns its id and reference (HD-...)."""
    return await _call("POST", "/escalations", json=escalation)
