"""The one e-mail pattern and the one phone normaliser of the help desk.

The action server reads addresses and numbers out of what people type; the
backend validates what it is sent and matches it against its records. Both
use these, so an address the chat accepts is one the backend accepts, and a
number is compared digit for digit. Standard library only: the backend may
run in an environment without Rasa.
"""
import re
from typing import Optional

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
US_PHONE_DIGITS = 10


def find_email(text: str) -> Optional[str]:
    """The first e-mail address in a message, lower-cased."""
    match = EMAIL.search(text)
    return match.group(0).lower() if match else None


def is_email(value: str) -> bool:
    return EMAIL.fullmatch(value) is not None


def phone_digits(value: str) -> str:
    """A phone number as its digits, without the US country code."""
    digits = re.sub(r"\D", "", value)
    return digits[1:] if len(digits) == US_PHONE_DIGITS + 1 and digits.startswith("1") else digits


def find_us_phone(text: str) -> Optional[str]:
    """A US phone number as 10 digits, from 605-555-0142, (605) 555 0142, +1 605 555 0142; None otherwise."""
    if re.search(r"[A-Za-z]", text.replace("ext", "")):
        return None
    digits = phone_digits(text)
    return digits if len(digits) == US_PHONE_DIGITS else None
