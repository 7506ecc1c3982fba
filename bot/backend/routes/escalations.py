"""The hand-off queue: the action server opens escalations and relays what members write while paused;
agents (signed in, see agent_auth) list, claim, reply, hand back and resolve, and follow it live (SSE)."""
import asyncio
import json
from typing import Any, Dict, List

from aiohttp import web

from bot.backend.agent_auth import SESSION_COOKIE, agent_session, signed_in_agent
from bot.backend.appkeys import LIVE, RASA
from bot.backend.auth import ACTIONS, actor, allow
from bot.backend.errors import ApiError, FieldErrors
from bot.backend.models import ESCALATION_STATUSES
from bot.backend.rasa_client import RasaUnavailable
from bot.backend.routes.common import db_of, path_row_id, settings_of
from bot.backend.services import agents, escalations
from bot.backend.validation import Form, read_json, storable

MAX_TRANSCRIPT_TURNS = 200
MAX_MESSAGE_LENGTH = 4000
HEARTBEAT_SECONDS = 15
routes = web.RouteTableDef()


def _transcript(value: Any) -> List[Dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_TRANSCRIPT_TURNS:
        raise FieldErrors({"transcript": f"a list of at most {MAX_TRANSCRIPT_TURNS} turns"})
    turns = []
    for turn in value:
        if (not isinstance(turn, dict) or turn.get("sender") not in ("user", "bot")
                or not isinstance(turn.get("text"), str) or not storable(turn["text"])):
            raise FieldErrors({"transcript": 'each turn is {"sender": "user" or "bot", "text": "..."}'})
        turns.append({"sender": turn["sender"], "text": turn["text"][:MAX_MESSAGE_LENGTH]})
    return turns


def _summary(value: Any) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldErrors({"summary": "an object: topic, tried, answers"})
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        raise FieldErrors({"summary": "must be JSON"}) from None
    if len(text) > 8000 or not storable(text):
        raise FieldErrors({"summary": "too long"})
    return value


def _message_text(form: Form, name: str = "text") -> str:
    value = form.data.get(name)
    if not isinstance(value, str) or not value.strip() or not storable(value) or len(value) > MAX_MESSAGE_LENGTH:
        form.error(name, f"1 to {MAX_MESSAGE_LENGTH} characters")
        return ""
    return value.strip()


def _escalation_id(request: web.Request) -> int:
    return path_row_id(request, "escalation_id", escalations.NO_SUCH_ESCALATION)


@routes.post("/escalations")
@allow(ACTIONS)
async def create_escalation(request: web.Request) -> web.Response:
    body = await read_json(request)
    form = Form(body)
    fields = {
        "conversation_id": form.text("conversation_id"),
        "channel": form.text("channel", max_length=32),
        "reason": form.text("reason", max_length=64),
        "contact": form.text("contact", required=False, max_length=254),
    }
    form.check()
    fields["transcript"] = _transcript(body.get("transcript", []))
    fields["summary"] = _summary(body.get("summary", {}))
    async with db_of(request).transaction() as session:
        escalation = await escalations.create(session, fields, actor(request))
        listed = await escalations.listed(session, escalation)
    request.config_dict[LIVE].publish("escalation", listed)
    return web.json_response({"id": escalation.id, "reference": escalation.reference, "status": escalation.status},
                             status=201)


@routes.post("/escalations/user-messages")
@allow(ACTIONS)
async def add_user_message(request: web.Request) -> web.Response:
    """A member wrote while their conversation is paused (relayed by bot/handoff_broker.py)."""
    form = Form(await read_json(request))
    conversation_id, event_key = form.text("conversation_id"), form.text("event_key", max_length=80)
    text = _message_text(form)
    form.check()
    async with db_of(request).transaction() as session:
        message = await escalations.add_user_message(session, conversation_id, text, event_key)
    if message is None:
        return web.json_response({"status": "ignored"})
    request.config_dict[LIVE].publish("message", escalations.as_message(message))
    return web.json_response({"status": "stored", "escalation_id": message.escalation_id}, status=201)


@routes.post("/escalations/user-left")
@allow(ACTIONS)
async def user_left(request: web.Request) -> web.Response:
    form = Form(await read_json(request))
    conversation_id = form.text("conversation_id")
    form.check()
    async with db_of(request).transaction() as session:
        escalation = await escalations.mark_user_left(session, conversation_id)
        listed = await escalations.listed(session, escalation) if escalation else None
    if listed:
        request.config_dict[LIVE].publish("escalation", listed)
    return web.json_response({"status": "recorded" if listed else "ignored"})


@routes.get("/escalations/open-conversations")
@allow(ACTIONS)
async def open_conversations(request: web.Request) -> web.Response:
    """The conversations an agent has or waits for: the broker relays their messages after a Rasa restart."""
    async with db_of(request).transaction() as session:
        conversations = await escalations.open_conversation_ids(session)
    return web.json_response({"conversation_ids": conversations})


@routes.get("/escalations")
@agent_session()
async def list_escalations(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in ESCALATION_STATUSES:
        raise FieldErrors({"status": f"one of {', '.join(ESCALATION_STATUSES)}"})
    async with db_of(request).transaction() as session:
        return web.json_response({"escalations": await escalations.listing(session, status)})


@routes.get("/escalations/stream")
@agent_session(touch=False)
async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `escalation` (a queue row changed) and `message` (a new message)."""
    live = request.config_dict[LIVE]
    queue = live.subscribe()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        await response.write(b"retry: 3000\nevent: ready\ndata: {}\n\n")
        while live.is_subscribed(queue):
            try:
                kind, data = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except asyncio.TimeoutError:
                async with db_of(request).transaction() as session:
                    if await agents.session_agent(session, settings_of(request), token, touch=False) is None:
                        break  # signed out or idle: the page reconnects, gets 401 and shows the sign-in
                await response.write(b": heartbeat\n\n")
                continue
            await response.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        live.unsubscribe(queue)
    return response


@routes.get("/escalations/{escalation_id}")
@agent_session()
async def get_escalation(request: web.Request) -> web.Response:
    async with db_of(request).transaction() as session:
        escalation = await escalations.get(session, _escalation_id(request))
        return web.json_response(await escalations.detail(session, escalation))


@routes.post("/escalations/{escalation_id}/claim")
@agent_session()
async def claim(request: web.Request) -> web.Response:
    async with db_of(request).transaction() as session:
        escalation = await escalations.claim(session, _escalation_id(request), signed_in_agent(request))
        detail = await escalations.detail(session, escalation)
    request.config_dict[LIVE].publish("escalation", {k: v for k, v in detail.items()
                                                     if k not in ("transcript", "messages", "summary", "contact")})
    return web.json_response(detail)


@routes.post("/escalations/{escalation_id}/reply")
@agent_session()
async def reply(request: web.Request) -> web.Response:
    """Deliver the reply on the member's channel first; it is stored only once Rasa has it."""
    agent = signed_in_agent(request)
    form = Form(await read_json(request))
    text = _message_text(form)
    form.check()
    async with db_of(request).transaction() as session:
        escalation = await escalations.get(session, _escalation_id(request))
        escalations.check_holder(escalation, agent)
    try:
        await request.config_dict[RASA].say_as_agent(escalation.conversation_id, escalation.channel, text,
                                                     agent.display_name)
    except RasaUnavailable:
        raise ApiError(503, "The reply could not be delivered: the assistant is not reachable. Try again.") from None
    async with db_of(request).transaction() as session:
        escalation = await escalations.get(session, escalation.id)
        message = await escalations.add_agent_message(session, escalation, agent, text)
    published = escalations.as_message(message, agent.display_name)
    request.config_dict[LIVE].publish("message", published)
    return web.json_response(published, status=201)


async def _close(request: web.Request, outcome: str) -> web.Response:
    """Resume the conversation in Rasa first: if that fails, nothing changes and the agent can retry."""
    agent = signed_in_agent(request)
    form = Form(await read_json(request) if request.can_read_body else {})
    note = form.text("note", required=False, max_length=2000)
    form.check()
    async with db_of(request).transaction() as session:
        escalation = await escalations.get(session, _escalation_id(request))
        escalations.check_holder(escalation, agent)
    try:
        await request.config_dict[RASA].resume(escalation.conversation_id, escalation.channel,
                                               escalations.back_with_assistant())
    except RasaUnavailable:
        raise ApiError(503, "The conversation could not be handed back: the assistant is not reachable. "
                            "Try again.") from None
    async with db_of(request).transaction() as session:
        escalation = await escalations.close(session, await escalations.get(session, escalation.id), agent,
                                             outcome, note)
        listed = await escalations.listed(session, escalation)
    request.config_dict[LIVE].publish("escalation", listed)
    return web.json_response(listed)


@routes.post("/escalations/{escalation_id}/resolve")
@agent_session()
async def resolve(request: web.Request) -> web.Response:
    return await _close(request, "resolved")


@routes.post("/escalations/{escalation_id}/hand-back")
@agent_session()
async def hand_back(request: web.Request) -> web.Response:
    return await _close(request, "handed_back")
