"""The one password hash/verify pair every kind of account uses (portal demo, agents)."""
import base64
import hashlib

from argon2 import PasswordHasher

from bot.backend.security import hash_password, verify_password


def test_a_new_hash_is_argon2id_and_checks_only_the_right_password():
    stored = hash_password("Correct-Horse-9")
    assert stored.startswith("$argon2id$") and "Correct-Horse-9" not in stored
    assert tuple(verify_password("Correct-Horse-9", stored)) == (True, False)
    assert not verify_password("correct-horse-9", stored)  # usable as a plain truth value
    assert not verify_password("Correct-Horse-9", "not a hash")


def test_old_hashes_verify_and_ask_to_be_replaced():
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"Old-password-1", salt=salt, n=2**14, r=8, p=1)
    scrypt = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    weaker = PasswordHasher(time_cost=1, memory_cost=8192).hash("Old-password-1")
    for stored in (scrypt, weaker):
        assert tuple(verify_password("Old-password-1", stored)) == (True, True)
        assert not verify_password("Wrong-password-1", stored)
