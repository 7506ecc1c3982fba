"""Reading request bodies: malformed JSON is a 400, wrong or missing fields one 422 listing them all."""
import json
import re
from datetime import date
from typing import Any, Dict, Optional

from aiohttp import web

from bot.backend.errors import ApiError, FieldErrors
from bot.contact import is_email, phone_digits

ZIP_PATTERN = re.compile(r"^\d{5}(-\d{4})?$")
MIN_PASSWORD_LENGTH = 8
MAX_SECRET_LENGTH = 256


async def read_json(request: web.Request) -> Dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.", code="malformed_json") from None
    if not isinstance(body, dict):
        raise FieldErrors({"body": "must be a JSON object"})
    return body


def storable(value: str) -> bool:
    """Text a database can keep: no NUL character, no lone surrogate from a JSON escape."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def query_text(request: web.Request, name: str) -> Optional[str]:
    """A query-string value, trimmed; None when absent or empty."""
    value = request.query.get(name, "").strip()
    if not storable(value):
        raise FieldErrors({name: "must be text"})
    return value or None


def normalize_name(value: str) -> str:
    """A name compared case- and space-insensitively (facility names, patient names)."""
    return " ".join(value.split()).lower()


class Form:
    """Takes fields from a JSON object and collects every problem before answering 422."""

    def __init__(self, data: Dict[str, Any], prefix: str = "", errors: Optional[Dict[str, str]] = None):
        self.data = data
        self.prefix = prefix
        self.errors: Dict[str, str] = {} if errors is None else errors

    def child(self, data: Dict[str, Any], name: str) -> "Form":
        """A form over a nested object, reporting into the same errors as `name.field`."""
        return Form(data, f"{self.prefix}{name}.", self.errors)

    def error(self, name: str, message: str) -> None:
        self.errors[self.prefix + name] = message

    def text(self, name: str, required: bool = True, max_length: int = 200) -> Optional[str]:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(name, "required")
            return None
        if not isinstance(value, str) or not storable(value):
            self.error(name, "must be a string")
            return None
        value = " ".join(value.split())
        if len(value) > max_length:
            self.error(name, f"at most {max_length} characters")
            return None
        return value

    def email(self, name: str, required: bool = True) -> Optional[str]:
        value = self.text(name, required, max_length=254)
        if value is not None and not is_email(value):
            self.error(name, "not an e-mail address")
            return None
        return value.lower() if value else None

    def phone(self, name: str, required: bool = False) -> Optional[str]:
        value = self.text(name, required, max_length=30)
        if value is not None and len(phone_digits(value)) != 10:
            self.error(name, "not a 10-digit phone number")
            return None
        return phone_digits(value) if value else None

    def zip_code(self, name: str) -> Optional[str]:
        value = self.text(name, max_length=10)
        if value is not None and not ZIP_PATTERN.match(value):
            self.error(name, "not a ZIP code (12345 or 12345-6789)")
            return None
        return value

    def date(self, name: str) -> Optional[date]:
        value = self.text(name, max_length=10)
        if value is None:
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.error(name, "not a date in the form YYYY-MM-DD")
            return None
        if parsed > date.today():
            self.error(name, "in the future")
            return None
        return parsed

    def boolean(self, name: str, default: Optional[bool] = None) -> Optional[bool]:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.error(name, "required" if value is None else "must be true or false")
            return None
        return value

    def secret(self, name: str, min_length: int = 1, required: bool = True) -> Optional[str]:
        """A token or password, taken exactly as given (no trimming)."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, "required")
            return None
        if not isinstance(value, str) or not storable(value):
            self.error(name, "must be a string")
            return None
        if not min_length <= len(value) <= MAX_SECRET_LENGTH:
            self.error(name, f"between {min_length} and {MAX_SECRET_LENGTH} characters")
            return None
        return value

    def password(self, name: str, required: bool = True) -> Optional[str]:
        return self.secret(name, MIN_PASSWORD_LENGTH, required)

    def check(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)
