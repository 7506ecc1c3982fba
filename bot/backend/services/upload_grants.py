"""Upload grants: the credential a browser uses to upload one kind of file for one conversation.

When a form in the chat wants a file, the action server asks for a grant and the
widget gets it: the browser never sees the action server's token. A grant is an
HMAC-signed statement of its purpose, a hash of the conversation id and its expiry,
so the backend keeps no state for it and the token reveals no session id.
"""
import base64
import binascii
import hmac
import json
import time
from dataclasses import dataclass
from typing import Optional

from bot.backend.security import keyed_hash
from bot.backend.settings import Settings

PURPOSES = ("site_agreement",)
VALID_SECONDS = 60 * 60


@dataclass(frozen=True)
class Grant:
    purpose: str
    conversation: str  # keyed hash of the conversation id
    expires_at: int  # Unix time


def issue(settings: Settings, conversation_id: str, purpose: str, now: Optional[float] = None) -> tuple:
    """(token, grant) for `purpose` in the conversation `conversation_id`."""
    grant = Grant(purpose, keyed_hash(settings.secret_key, "conversation:" + conversation_id)[:32],
                  int(now if now is not None else time.time()) + VALID_SECONDS)
    body = base64.urlsafe_b64encode(json.dumps(
        {"p": grant.purpose, "c": grant.conversation, "e": grant.expires_at}, separators=(",", ":")
    ).encode()).decode().rstrip("=")
    return f"{body}.{_signature(settings, body)}", grant


def verify(settings: Settings, token: str, purpose: str) -> Optional[Grant]:
    """The grant a token proves for `purpose`, or None (forged, expired or for something else)."""
    body, _, signature = token.partition(".")
    if not body or not hmac.compare_digest(signature.encode(), _signature(settings, body).encode()):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        grant = Grant(claims["p"], claims["c"], int(claims["e"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    if grant.purpose != purpose or grant.expires_at <= time.time():
        return None
    return grant


def _signature(settings: Settings, body: str) -> str:
    return keyed_hash(settings.secret_key, "upload-grant:" + body)
