"""E-mail addresses and US phone numbers, read the same way by the actions and the backend.

Shared by both sides, so it imports neither Rasa nor the backend's web stack.
"""
import re

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def is_email(text: str) -> bool:
    return EMAIL.fullmatch(text) is not None


def phone_digits(text: str) -> str:
    """A phone number as its digits, without the US country code (605-555-0142, +1 (605) 555 0142)."""
    digits = re.sub(r"\D", "", text)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
