"""Existing System Link sites, looked up before a site request is collected."""
from aiohttp import web

from bot.backend.auth import ACTIONS, allow
from bot.backend.errors import FieldErrors
from bot.backend.routes.common import db_of
from bot.backend.services.sites import site_exists
from bot.backend.validation import query_text

routes = web.RouteTableDef()


@routes.get("/sites")
@allow(ACTIONS)
async def find_site(request: web.Request) -> web.Response:
    """Whether a facility already has a site: checked before a new site request is collected."""
    facility = query_text(request, "facility")
    if facility is None:
        raise FieldErrors({"facility": "required"})
    async with db_of(request).transaction() as session:
        exists = await site_exists(session, facility)
    return web.json_response({"exists": exists})
