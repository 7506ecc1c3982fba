"""Find and remove secrets that people type into a chat by mistake.

Passwords, Social Security numbers and MyChart access codes must never be
stored or repeated. Channels call `redact` before a message reaches Rasa, so
the tracker store, the logs and the NLU only ever see a placeholder.
"""
import re
from typing import List, Tuple

PLACEHOLDER = "[removed {kind}]"
KINDS = ("password", "ssn", "access code")

_SSN_FORMATTED = re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])")
_SSN_BARE = re.compile(r"(?<!\d)\d{9}(?!\d)")
_SSN_WORDS = re.compile(r"\b(ssn|social( security)?( number| #)?)\b", re.I)
# MyChart access codes look like ABCDE-FGH12-JK345.
_ACCESS_CODE = re.compile(r"\b[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}\b")
# "password is X", "pw: X", "my passcode = X" where X looks like a secret.
_PASSWORD = re.compile(
    r"\b(pass ?words?|passcodes?|pwd|pw)\b(\s+(is|was|would be|should be|=|:)|\s*[:=])\s*[\"'“]?(?P<secret>[^\s\"'”]+)",
    re.I,
)
_NOT_A_SECRET = {
    "not", "wrong", "incorrect", "expired", "invalid", "locked", "correct", "right",
    "working", "too", "the", "a", "my", "still", "no", "being", "reset", "changed",
}


def _looks_like_secret(word: str) -> bool:
    """A password candidate: not an ordinary word, and has a digit, a symbol or mixed case."""
    core = word.rstrip(".,!?;")
    if len(core) < 4 or core.lower() in _NOT_A_SECRET:
        return False
    has_digit = any(c.isdigit() for c in core)
    has_symbol = any(not c.isalnum() for c in core)
    mixed_case = core.lower() != core and core.upper() != core and not core.istitle()
    return has_digit or has_symbol or mixed_case


def redact(text: str) -> Tuple[str, List[str]]:
    """Return the text with secrets replaced by placeholders, and the kinds found."""
    found: List[str] = []
    if not text:
        return text, found

    def replace_password(match: "re.Match[str]") -> str:
        secret = match.group("secret")
        if not _looks_like_secret(secret):
            return match.group(0)
        found.append("password")
        start = match.start("secret") - match.start(0)
        return match.group(0)[:start] + PLACEHOLDER.format(kind="password")

    text = _PASSWORD.sub(replace_password, text)

    def mark(kind: str):
        def _sub(_: "re.Match[str]") -> str:
            found.append(kind)
            return PLACEHOLDER.format(kind=kind)

        return _sub

    text = _ACCESS_CODE.sub(mark("access code"), text)
    text = _SSN_FORMATTED.sub(mark("ssn"), text)
    if _SSN_WORDS.search(text):
        text = _SSN_BARE.sub(mark("ssn"), text)
    return text, sorted(set(found))


def contains_placeholder(text: str) -> bool:
    return any(PLACEHOLDER.format(kind=kind) in (text or "") for kind in KINDS)
