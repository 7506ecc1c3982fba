"""Patient records, created by administrators (and by the evaluation's set-up)."""
from aiohttp import web

from bot.backend.auth import ADMIN, actor, allow
from bot.backend.routes.common import db_of
from bot.backend.services.patients import create_patient, parse_new_patient
from bot.backend.validation import read_json

routes = web.RouteTableDef()


@routes.post("/patients")
@allow(ADMIN)
async def add_patient(request: web.Request) -> web.Response:
    new = parse_new_patient(await read_json(request))
    async with db_of(request).transaction() as session:
        patient_id = await create_patient(session, new, actor(request))
    return web.json_response({"id": patient_id}, status=201)
