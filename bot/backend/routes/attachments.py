"""File uploads (signed site agreements) from the action server and the chat widget."""
from aiohttp import web

from bot.backend.auth import ACTIONS, ADMIN, PUBLIC, actor, allow, bearer, token_role
from bot.backend.errors import ApiError
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import attachments, upload_grants
from bot.backend.validation import Form, read_json
from bot.facts import facts

routes = web.RouteTableDef()


@routes.post("/upload-grants")
@allow(ACTIONS)
async def grant_upload(request: web.Request) -> web.Response:
    """A credential for the widget to upload one file for this conversation (see upload_grants)."""
    form = Form(await read_json(request))
    conversation_id = form.text("conversation_id", max_length=200)
    purpose = form.text("purpose", max_length=40)
    if purpose is not None and purpose not in upload_grants.PURPOSES:
        form.error("purpose", "must be one of: " + ", ".join(upload_grants.PURPOSES))
    form.check()
    settings = settings_of(request)
    token, grant = upload_grants.issue(settings, conversation_id, purpose)
    return web.json_response({
        "purpose": purpose,
        "token": token,
        "expires_at": grant.expires_at,
        "url": f"{settings.public_url}/api/v1/attachments",
        "accept": ["." + ext for ext in facts()["system_link"]["agreement_file_types"]],
        "max_bytes": settings.max_upload_bytes,
    }, status=201)


@routes.post("/attachments")
async def upload_attachment(request: web.Request) -> web.Response:
    settings = settings_of(request)
    caller = token_role(settings, bearer(request))
    if caller in (ADMIN, ACTIONS):
        request["actor"] = caller
    elif upload_grants.verify(settings, bearer(request), "site_agreement") is None:
        raise ApiError(401, "This upload needs a valid upload grant; ask the assistant for a new upload.",
                       headers={"WWW-Authenticate": "Bearer"})
    else:
        request["actor"] = PUBLIC
    upload = await attachments.read_upload(request, settings.max_upload_bytes)
    async with db_of(request).transaction() as session:
        attachment = await attachments.store(session, upload, actor(request))
    return web.json_response(attachments.describe(attachment), status=201)
