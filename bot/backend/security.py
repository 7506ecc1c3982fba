"""Hashing and random values: what the database keeps instead of secrets."""
import base64
import hashlib
import hmac
import secrets

# MyChart-style access code: three groups of five, without look-alikes (0/O, 1/I/L).
ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


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
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


# Checked against when a username is unknown, so that both cases cost one scrypt.
UNKNOWN_USER_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))
