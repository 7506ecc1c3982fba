"""Liveness and database reachability, for probes and for `make run` to wait on."""
import asyncio
import logging

from aiohttp import web

from bot.backend.appkeys import READY
from bot.backend.routes.common import db_of

PING_TIMEOUT_SECONDS = 3.0
log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(db_of(request).ping(), PING_TIMEOUT_SECONDS)
    except Exception as error:  # whatever the reason, the database cannot be used
        log.warning("health check: database unreachable (%s)", type(error).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    if not request.config_dict[READY].is_set():
        return web.json_response({"status": "starting", "database": "ok"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
