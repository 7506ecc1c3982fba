"""MyChart account recovery for the action server, and the public reset and sign-in pages' calls."""
from aiohttp import web

from bot.backend.auth import actor
from bot.backend.clients import public_client
from bot.backend.errors import ApiError
from bot.backend.routes.common import db_of, settings_of
from bot.backend.routes.identity import identity_route
from bot.backend.services import accounts
from bot.backend.validation import Form, read_json

routes = web.RouteTableDef()
routes.post("/accounts/password-reset")(identity_route(accounts.send_reset_link))
routes.post("/accounts/username-reminder")(identity_route(accounts.send_username))


@routes.post("/accounts/password-reset/complete")
async def complete_password_reset(request: web.Request) -> web.Response:
    form = Form(await read_json(request))
    token, new_password = form.secret("token"), form.password("new_password")
    form.check()
    async with db_of(request).transaction() as session:
        await accounts.complete_reset(session, settings_of(request), token, new_password, actor(request))
    return web.json_response({"status": "password_changed"})


@routes.post("/accounts/login")
async def login(request: web.Request) -> web.Response:
    """The portal's sign-in, as a demo of the lockout rules the help desk explains (BACKEND_DEMO_PORTAL)."""
    if not settings_of(request).demo_portal:
        raise ApiError(404, "The demo portal sign-in is off (BACKEND_DEMO_PORTAL).", code="demo_portal_off")
    form = Form(await read_json(request))
    username, password = form.text("username", max_length=254), form.secret("password")
    form.check()
    async with db_of(request).transaction() as session:
        outcome = await accounts.login(session, settings_of(request), username.lower(), password,
                                       public_client(request), actor(request))
    if outcome is accounts.LoginOutcome.LOCKED:
        raise ApiError(423, accounts.locked_message(), code="account_locked")
    if outcome is accounts.LoginOutcome.INVALID:
        raise ApiError(401, "The username or password is not correct.", code="invalid_credentials")
    return web.json_response({"status": "ok"})
