"""What every route module needs from the application: settings and the database."""
from aiohttp import web

from bot.backend.appkeys import DB, SETTINGS
from bot.backend.db import Database
from bot.backend.settings import Settings


def settings_of(request: web.Request) -> Settings:
    return request.config_dict[SETTINGS]


def db_of(request: web.Request) -> Database:
    return request.config_dict[DB]
