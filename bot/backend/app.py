"""The backend application: the API under /api/v1, the database lifecycle and the outbox sender."""
import asyncio
import contextlib
import logging
from typing import AsyncIterator

from aiohttp import web

from bot.backend.appkeys import DB, LIVE, OPENAPI, RASA, READY, SETTINGS
from bot.backend.db import Database, is_unavailable
from bot.backend.errors import ApiError, error_middleware
from bot.backend.rasa_client import RasaClient
from bot.backend.routes import API_PREFIX, add_api_routes
from bot.backend.routes.agent_console import add_console_routes
from bot.backend.routes.openapi import load_openapi
from bot.backend.seed import seed_demo_data
from bot.backend.services.escalations import LiveUpdates, notify_unclaimed
from bot.backend.services.outbox import OutboxSender
from bot.backend.settings import Settings
from bot.backend.web_security import security_headers_middleware, widget_cors_middleware
from bot.web.routes import add_web_routes

ALWAYS_AVAILABLE = (f"{API_PREFIX}/healthz", f"{API_PREFIX}/openapi.json")
PREPARE_RETRY_SECONDS = 2.0
log = logging.getLogger(__name__)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[security_headers_middleware, widget_cors_middleware, error_middleware,
                                          readiness_middleware])
    app[SETTINGS] = settings
    app[DB] = Database(settings.database_url)
    app[READY] = asyncio.Event()
    app[OPENAPI] = load_openapi()
    app[LIVE] = LiveUpdates()
    app[RASA] = RasaClient(settings.rasa_url, settings.rasa_token)
    add_api_routes(app)
    add_web_routes(app)
    add_console_routes(app)
    app.cleanup_ctx.append(database_lifecycle)
    app.cleanup_ctx.append(outbox_delivery)
    app.cleanup_ctx.append(unclaimed_notices)
    return app


@web.middleware
async def readiness_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Until migrations and seeding are done, only health and the API document answer."""
    if not request.config_dict[READY].is_set() and request.path not in ALWAYS_AVAILABLE:
        raise ApiError(503, "The backend is starting; try again shortly.")
    return await handler(request)


async def database_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Migrate and seed at start; if the database is not up yet, keep trying in the background."""
    retrying = None
    try:
        await prepare_database(app)
    except Exception as error:
        if not is_unavailable(error):
            raise
        log.warning("database unreachable at start (%s); retrying every %.0fs",
                    type(error).__name__, PREPARE_RETRY_SECONDS)
        retrying = asyncio.create_task(prepare_when_reachable(app))
    yield
    if retrying is not None:
        retrying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retrying
    await app[DB].close()


async def prepare_database(app: web.Application) -> None:
    await app[DB].migrate()
    await seed_demo_data(app[DB])
    app[READY].set()
    log.info("database ready")


async def prepare_when_reachable(app: web.Application) -> None:
    while True:
        await asyncio.sleep(PREPARE_RETRY_SECONDS)
        try:
            await prepare_database(app)
            return
        except Exception as error:
            if not is_unavailable(error):
                log.exception("database preparation failed")
                return
            log.warning("database still unreachable (%s)", type(error).__name__)


async def outbox_delivery(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.smtp_host:
        log.info("SMTP_HOST not set: messages stay queued, readable through GET %s/outbox", API_PREFIX)
        yield
        return

    async def deliver() -> None:
        await app[READY].wait()
        await OutboxSender(app[DB], settings).run()

    sender = asyncio.create_task(deliver())
    yield
    sender.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sender


async def unclaimed_notices(app: web.Application) -> AsyncIterator[None]:
    """Tell members whose escalation nobody claimed in HANDOFF_UNCLAIMED_SECONDS; close the Rasa client at exit."""
    wait = app[SETTINGS].handoff_unclaimed_seconds

    async def watch() -> None:
        await app[READY].wait()
        while True:
            try:
                await notify_unclaimed(app[DB], app[RASA], app[LIVE], wait)
            except Exception:
                log.exception("unclaimed-escalation check failed")
            await asyncio.sleep(min(max(wait / 4, 0.2), 5.0))

    watcher = asyncio.create_task(watch())
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    await app[RASA].close()
