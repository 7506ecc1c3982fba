"""The action server's settings, read once from the environment (and .env)."""
import os

from dotenv import load_dotenv

load_dotenv()

BACKEND_URL = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")
BACKEND_ACTIONS_TOKEN = os.environ.get("BACKEND_ACTIONS_TOKEN", "")
# Every backend call gives up after this long, so a slow backend never
# leaves a member waiting: they hear the phone number instead.
BACKEND_TIMEOUT_SECONDS = float(os.environ.get("BACKEND_TIMEOUT_SECONDS", "5"))

# Where the action server listens (loopback unless opened), and the secret
# Rasa sends it (endpoints.yml: `Authorization: Bearer ${ACTION_SERVER_TOKEN}`).
ACTION_SERVER_HOST = os.environ.get("ACTION_SERVER_HOST", "127.0.0.1")
ACTION_SERVER_PORT = int(os.environ.get("ACTION_SERVER_PORT", "5055"))
ACTION_SERVER_TOKEN = os.environ.get("ACTION_SERVER_TOKEN", "").strip()

# When help-desk agents answer chats: "mon-fri 08:00-17:00" (one day range, one time range), "always" or
# "never", in HELP_DESK_TIMEZONE. Outside these hours the bot offers the phone number or a message.
HELP_DESK_HOURS = os.environ.get("HELP_DESK_HOURS", "mon-fri 08:00-17:00")
HELP_DESK_TIMEZONE = os.environ.get("HELP_DESK_TIMEZONE", "America/Chicago")
