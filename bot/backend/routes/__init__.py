"""The HTTP API under /api/v1; one module per capability, like the services.

Each module's RouteTableDef holds paths relative to /api/v1, as openapi.yml writes them.
(Not an aiohttp sub-application: with aiohttp 3.9 and the installed yarl, sub-application
routing breaks on Host headers that carry a port.)
"""
from aiohttp import web

from bot.backend.routes import (
    access_codes,
    accounts,
    agents,
    attachments,
    escalations,
    health,
    openapi,
    outbox,
    patients,
    review,
    site_requests,
    sites,
)

API_PREFIX = "/api/v1"
MODULES = (health, openapi, patients, access_codes, accounts, attachments, sites, site_requests, outbox,
           agents, escalations, review)


def add_api_routes(app: web.Application) -> None:
    for module in MODULES:
        for route in module.routes:
            app.router.add_route(route.method, API_PREFIX + route.path, route.handler, **route.kwargs)
