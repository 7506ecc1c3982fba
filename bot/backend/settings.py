"""The backend's configuration, read once from the environment.

python-dotenv loads `.env` from the current directory first; variables that
are already set in the real environment win over the file.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple

from dotenv import load_dotenv
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/backend.db"
REQUIRED_SECRETS = ("BACKEND_ADMIN_TOKEN", "BACKEND_ACTIONS_TOKEN", "BACKEND_SECRET_KEY")
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class SettingsError(Exception):
    """The configuration cannot run the backend; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database_url: str
    admin_token: str
    actions_token: str
    secret_key: str
    public_url: str
    rasa_public_url: str  # the socket.io origin the chat page connects to (its CSP allows it)
    widget_origins: Tuple[str, ...]  # other sites that embed the chat widget (CORS for its uploads)
    max_upload_bytes: int
    smtp_host: Optional[str]
    smtp_port: int
    smtp_user: Optional[str]
    smtp_password: Optional[str]
    smtp_from: str
    smtp_starttls: bool
    outbox_poll_seconds: float
    outbox_retry_seconds: float
    rasa_url: str
    rasa_token: Optional[str]
    agent_idle_minutes: float
    agent_failed_logins_before_lock: int
    agent_lock_minutes: float
    handoff_unclaimed_seconds: float

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        if env is None:
            load_dotenv(Path.cwd() / ".env", override=False)
            env = os.environ
        missing = [name for name in REQUIRED_SECRETS if not env.get(name, "").strip()]
        if missing:
            raise SettingsError(
                f"{', '.join(missing)} not set: put a long random value for each in .env "
                "(`make run` creates one from .env.example) or in the environment"
            )
        if env["BACKEND_ADMIN_TOKEN"] == env["BACKEND_ACTIONS_TOKEN"]:
            raise SettingsError("BACKEND_ADMIN_TOKEN and BACKEND_ACTIONS_TOKEN must differ")
        return cls(
            host=env.get("BACKEND_HOST", "127.0.0.1"),
            port=_number(env, "BACKEND_PORT", 8080, int),
            database_url=async_database_url(env.get("BACKEND_DATABASE_URL") or DEFAULT_DATABASE_URL),
            admin_token=env["BACKEND_ADMIN_TOKEN"].strip(),
            actions_token=env["BACKEND_ACTIONS_TOKEN"].strip(),
            secret_key=env["BACKEND_SECRET_KEY"].strip(),
            public_url=env.get("BACKEND_PUBLIC_URL", "http://localhost:8080").rstrip("/"),
            rasa_public_url=env.get("RASA_PUBLIC_URL", "http://localhost:5005").rstrip("/"),
            widget_origins=tuple(o.strip().rstrip("/") for o in env.get("BACKEND_WIDGET_ORIGINS", "").split(",")
                                 if o.strip()),
            max_upload_bytes=_number(env, "BACKEND_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, int),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_number(env, "SMTP_PORT", 25, int),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_from=env.get("SMTP_FROM") or "noreply@example.org",
            smtp_starttls=env.get("SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "on"),
            outbox_poll_seconds=_number(env, "BACKEND_OUTBOX_POLL_SECONDS", 1.0, float),
            outbox_retry_seconds=_number(env, "BACKEND_OUTBOX_RETRY_SECONDS", 30.0, float),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=env.get("RASA_TOKEN", "").strip() or None,
            agent_idle_minutes=_number(env, "AGENT_IDLE_MINUTES", 30.0, float),
            agent_failed_logins_before_lock=_number(env, "AGENT_FAILED_LOGINS_BEFORE_LOCK", 5, int),
            agent_lock_minutes=_number(env, "AGENT_LOCK_MINUTES", 15.0, float),
            handoff_unclaimed_seconds=_number(env, "HANDOFF_UNCLAIMED_SECONDS", 300.0, float),
        )


    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag whenever the pages are served over https."""
        return self.public_url.startswith("https://")


def async_database_url(url: str) -> str:
    """The URL with the async driver this backend uses (`postgresql://` -> asyncpg)."""
    parsed = make_url(url)
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def _number(env: Mapping[str, str], name: str, default, kind):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
