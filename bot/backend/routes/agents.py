"""Agent sign-in, sign-out and the current session (for the console page)."""
from aiohttp import web

from bot.backend.agent_auth import agent_session, clear_session_cookie, set_session_cookie, signed_in_agent
from bot.backend.errors import ApiError
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import agents
from bot.backend.validation import Form, read_json

routes = web.RouteTableDef()


def _session_body(agent_id: int, username: str, display_name: str, roles, csrf_token: str) -> dict:
    return {"agent": {"id": agent_id, "username": username, "display_name": display_name, "roles": roles},
            "csrf_token": csrf_token}


@routes.post("/agent/sign-in")
async def sign_in(request: web.Request) -> web.Response:
    form = Form(await read_json(request))
    username, password = form.text("username", max_length=100), form.secret("password")
    form.check()
    settings = settings_of(request)
    async with db_of(request).transaction() as session:
        outcome, agent = await agents.sign_in(session, settings, username, password)
        if outcome is agents.SignIn.OK:
            token, csrf = await agents.start_session(session, settings, agent)
    if outcome is agents.SignIn.LOCKED:
        raise ApiError(423, f"Too many unsuccessful sign-ins: try again in {settings.agent_lock_minutes:g} minutes.",
                       code="account_locked")
    if outcome is agents.SignIn.INVALID:
        raise ApiError(401, "The username or password is not correct.", code="invalid_credentials")
    response = web.json_response(_session_body(agent.id, agent.username, agent.display_name, agent.roles, csrf))
    set_session_cookie(request, response, token)
    return response


@routes.get("/agent/session")
@agent_session(role="agent")
async def current_session(request: web.Request) -> web.Response:
    agent = signed_in_agent(request)
    return web.json_response(_session_body(agent.agent_id, agent.username, agent.display_name, agent.roles,
                                           agent.csrf_token))


@routes.post("/agent/sign-out")
@agent_session(role="agent")
async def sign_out(request: web.Request) -> web.Response:
    async with db_of(request).transaction() as session:
        await agents.end_session(session, signed_in_agent(request))
    response = web.json_response({"status": "signed_out"})
    clear_session_cookie(request, response)
    return response
