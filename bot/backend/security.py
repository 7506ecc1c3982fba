"""Hashing and random values: what the database keeps instead of secrets."""
import base64
import hashlib
import hmac
import secrets
from typing import NamedTuple


from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY


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


# argon2id with argon2-cffi's RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4).
PASSWORD_HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
LEGACY_SCRYPT_PREFIX = "scrypt$"


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string, salt and parameters included) for a password of any account."""
    return PASSWORD_HASHER.hash(password)


class PasswordCheck(NamedTuple):
    """What verify_password found; true exactly when the password is right."""

    ok: bool
    needs_rehash: bool

    def __bool__(self) -> bool:
        return self.ok


def verify_password(password: str, stored: str) -> PasswordCheck:
    """(ok, needs_rehash) for a password against a stored hash; `if verify_password(...)` means ok.

    needs_rehash is True when the password is right but the hash is an old scrypt one or used
    other argon2 parameters: the caller then stores hash_password(password) in its place.
    Both calls are slow on purpose: run them in a thread (asyncio.to_thread).
    """
    if stored.startswith(LEGACY_SCRYPT_PREFIX):
        return PasswordCheck(_verify_scrypt(password, stored), True)
    try:
        PASSWORD_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(False, False)
    return PasswordCheck(True, PASSWORD_HASHER.check_needs_rehash(stored))


def _verify_scrypt(password: str, stored: str) -> bool:
    """The hashes this backend wrote before argon2: scrypt$N$r$p$salt$digest (base64)."""
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


# Checked against when a username is unknown, so that both cases cost one hash.
UNKNOWN_USER_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))
