"""The Authorization header for Rasa's HTTP API.

Rasa's server is started with a JWT secret (RASA_TOKEN, read from the
environment by bot/rasa_server.py, never on a command line) and accepts no
plain token, so no secret ever travels in a URL. A caller sends a JWT that
is good for a minute (plus the three minutes of clock leeway that
sanic-jwt, which checks it, allows). PyJWT only, no Rasa: any of the project's environments
can import it.
"""
import time
from typing import Dict

import jwt

ALGORITHM = "HS256"
LIFETIME_SECONDS = 60


def admin_jwt(secret: str, lifetime_seconds: int = LIFETIME_SECONDS) -> str:
    """A token with Rasa's "admin" role (every conversation), expiring after `lifetime_seconds`."""
    now = int(time.time())
    claims = {"user": {"username": "help-desk", "role": "admin"}, "iat": now, "exp": now + lifetime_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def auth_headers(secret: str) -> Dict[str, str]:
    """Headers for one call to Rasa's HTTP API."""
    return {"Authorization": f"Bearer {admin_jwt(secret)}"}
