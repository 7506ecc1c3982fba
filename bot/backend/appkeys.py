"""Typed keys for what the application object carries."""
import asyncio
from typing import Any, Dict

from aiohttp import web

from bot.backend.db import Database
from bot.backend.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
OPENAPI = web.AppKey("openapi", Dict[str, Any])
READY = web.AppKey("ready", asyncio.Event)  # set once migrations and seeding are done
LIVE = web.AppKey("live", Any)  # services.escalations.LiveUpdates: queue and message events for the consoles
RASA = web.AppKey("rasa", Any)  # rasa_client.RasaClient
