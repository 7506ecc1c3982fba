"""Hashing and random values: what the database keeps instead of secrets."""
import base64
import hashlib
import hmac
import secrets

import argon2

# MyChart-style access code: three groups of five, without look-alikes (0/O, 1/I/L).
ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def keyed_hash(secret_key: str, value: str) -> str:
    """HMAC-SHA256 with the server's pepper: a stolen table cannot be brute-forced offline."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_access_code() -> str:
    groups = ("".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(5)) for _ in range(3))
    return "-".join(groups)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """Argon2id with argon2-cffi's current defaults (the one password hash of the backend)."""
    return _ARGON2.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Check a password against an Argon2 hash, or an older scrypt one (rehash those after sign-in)."""
    if stored.startswith("scrypt$"):
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
        return hmac.compare_digest(candidate, base64.b64decode(digest))
    try:
        return _ARGON2.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """True for scrypt hashes and Argon2 hashes made with weaker parameters than today's."""
    return stored.startswith("scrypt$") or _ARGON2.check_needs_rehash(stored)


_ARGON2 = argon2.PasswordHasher()
# Checked against when a username is unknown, so that both cases cost one hash.
UNKNOWN_USER_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))
