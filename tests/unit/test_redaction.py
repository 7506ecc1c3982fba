"""Secrets typed into the chat are removed before anything stores them."""
import pytest

from bot.redaction import contains_placeholder, redact


@pytest.mark.parametrize("text,kind,secret", [
    ("my password is Sunny2024! can u see why its not letting me log in", "password", "Sunny2024"),
    ("pw: hunter22", "password", "hunter22"),
    ("heres my ssn 123-45-6789, can you pull up my account", "ssn", "123-45-6789"),
    ("my social security number is 123456789", "ssn", "123456789"),
    ("my access code is ABCDE-12345-FGHIJ", "access code", "ABCDE-12345-FGHIJ"),
])
def test_secrets_are_replaced(text, kind, secret):
    cleaned, kinds = redact(text)
    assert kind in kinds
    assert secret not in cleaned
    assert contains_placeholder(cleaned)


@pytest.mark.parametrize("text", [
    "my password is not working",
    "my password is expired, what do I do",
    "call me at 605-555-0142",
    "my zip is 57104-1234",
    "born 02/29/1984",
    "how many digits is an access code?",
])
def test_ordinary_messages_are_untouched(text):
    assert redact(text) == (text, [])
