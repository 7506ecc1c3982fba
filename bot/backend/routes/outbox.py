"""The development mail sink."""
from aiohttp import web

from bot.backend.auth import ADMIN, allow
from bot.backend.routes.common import db_of
from bot.backend.services.outbox import list_messages
from bot.backend.validation import query_text

routes = web.RouteTableDef()


@routes.get("/outbox")
@allow(ADMIN)
async def read_outbox(request: web.Request) -> web.Response:
    """The development mail sink: what was queued, optionally for one address."""
    async with db_of(request).transaction() as session:
        messages = await list_messages(session, query_text(request, "to"))
    return web.json_response({"messages": messages})
