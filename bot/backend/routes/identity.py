"""The shape shared by the self-service requests that start from a person's identity."""
import asyncio
import time

from aiohttp import web

from bot.backend.auth import ACTIONS, actor, allow
from bot.backend.clients import forwarded_client
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services.identity import count_attempt, find_patient, parse_identity
from bot.backend.validation import read_json

# Every answer takes at least this long, so timing does not tell a match from no match.
MIN_RESPONSE_SECONDS = 0.2


def identity_route(act):
    """A handler that runs `act(session, settings, patient_or_None, actor)` and always answers 202."""

    @allow(ACTIONS)
    async def handler(request: web.Request) -> web.Response:
        started = time.monotonic()
        try:
            client = forwarded_client(request)
            identity = parse_identity(await read_json(request))
            settings = settings_of(request)
            async with db_of(request).transaction() as session:
                await count_attempt(session, settings.secret_key, identity.conversation_id, client)
                patient = await find_patient(session, identity)
                await act(session, settings, patient, actor(request))
            return web.json_response({"status": "accepted"}, status=202)
        finally:
            await asyncio.sleep(max(0.0, MIN_RESPONSE_SECONDS - (time.monotonic() - started)))

    return handler
