"""File uploads (signed site agreements) from the action server and the web widget."""
from aiohttp import web

from bot.backend.auth import ACTIONS, actor, allow
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import attachments

routes = web.RouteTableDef()


@routes.post("/attachments")
@allow(ACTIONS)
async def upload_attachment(request: web.Request) -> web.Response:
    upload = await attachments.read_upload(request, settings_of(request).max_upload_bytes)
    async with db_of(request).transaction() as session:
        attachment = await attachments.store(session, upload, actor(request))
    return web.json_response(attachments.describe(attachment), status=201)
