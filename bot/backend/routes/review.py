"""The trainers' review inbox and analytics (the data behind /trainer and `bot.cli review|report`)."""
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Optional, Tuple

from aiohttp import web

from bot.backend.agent_auth import agent_session
from bot.backend.auth import ADMIN, allow
from bot.backend.errors import FieldErrors
from bot.backend.routes.common import db_of, path_row_id, settings_of
from bot.backend.services import analytics, review
from bot.backend.training_data import TrainingData
from bot.backend.validation import query_text, read_json

DEFAULT_DAYS = 30
TRAINER = "trainer"
routes = web.RouteTableDef()


def trainer_or_admin(handler):
    """The admin token (bot.cli review/report), or a signed-in account with the trainer role."""
    by_token, by_session = allow(ADMIN)(handler), agent_session(role=TRAINER)(handler)

    async def checked(request: web.Request) -> web.StreamResponse:
        return await (by_token if "Authorization" in request.headers else by_session)(request)

    return checked


def date_range(request: web.Request) -> Tuple[datetime, datetime]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, both days included; the last 30 days by default."""
    errors = {}
    parsed = {}
    for name in ("from", "to"):
        value = query_text(request, name)
        try:
            parsed[name] = date.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "must be a date, YYYY-MM-DD"
    if errors:
        raise FieldErrors(errors)
    last = parsed["to"] or datetime.utcnow().date()
    first = parsed["from"] or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise FieldErrors({"from": "must not be after 'to'"})
    return datetime.combine(first, datetime.min.time()), datetime.combine(last + timedelta(days=1), datetime.min.time())


def training_data(request: web.Request) -> Optional[TrainingData]:
    root = settings_of(request).training_data_dir
    return TrainingData(Path(root)) if root else None


def item_id(request: web.Request) -> int:
    return path_row_id(request, "item_id", review.NO_SUCH_ITEM)


@routes.get("/review")
@trainer_or_admin
async def list_review_groups(request: web.Request) -> web.Response:
    start, end = date_range(request)
    async with db_of(request).transaction() as session:
        groups = await review.inbox(session, start, end)
    return web.json_response({"groups": groups})


@routes.get("/review/intents")
@trainer_or_admin
async def list_intents(request: web.Request) -> web.Response:
    data = training_data(request)
    return web.json_response({"intents": data.intents() if data else []})


@routes.get("/review/items/{item_id}")
@trainer_or_admin
async def review_item_context(request: web.Request) -> web.Response:
    async with db_of(request).transaction() as session:
        found = await review.context(session, item_id(request))
    return web.json_response(found)


@routes.post("/review/items/{item_id}/example")
@trainer_or_admin
async def make_training_example(request: web.Request) -> web.Response:
    """Body {"intent": NAME}; NAME out_of_scope marks the message as out of scope."""
    body = await read_json(request)
    intent = body.get("intent")
    if not isinstance(intent, str) or not intent.strip():
        raise FieldErrors({"intent": "required: the intent this message should have been"})
    async with db_of(request).transaction() as session:
        done = await review.add_example(session, training_data(request), item_id(request), intent.strip())
    return web.json_response(done)


@routes.get("/analytics")
@trainer_or_admin
async def read_analytics(request: web.Request) -> web.Response:
    start, end = date_range(request)
    async with db_of(request).transaction() as session:
        found = await analytics.summary(session, training_data(request), start, end)
    return web.json_response(found)
