"""What every route module needs from the application: settings, the database, row ids in paths."""
from aiohttp import web

from bot.backend.errors import ApiError

from bot.backend.appkeys import DB, SETTINGS
from bot.backend.db import Database
from bot.backend.settings import Settings


def settings_of(request: web.Request) -> Settings:
    return request.config_dict[SETTINGS]


def db_of(request: web.Request) -> Database:
    return request.config_dict[DB]


LARGEST_ROW_ID = 2**63 - 1  # PostgreSQL BIGINT and SQLite INTEGER both stop here


def path_row_id(request: web.Request, name: str, not_found: str) -> int:
    """The row id named in the path; an id no row can have (not a whole number, or too large
    for the database, which would fail on it with a server error) is answered 404 like any
    other id that names nothing."""
    text = request.match_info[name]
    if text.isascii() and text.isdigit() and 0 < int(text) <= LARGEST_ROW_ID:
        return int(text)
    raise ApiError(404, not_found)
