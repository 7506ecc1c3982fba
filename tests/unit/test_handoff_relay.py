"""The relay that tells the agent console what a member does while a hand-off is paused.

Against a recording HTTP server on loopback in place of the backend: what matters here is which
calls the relay makes, and when, around Rasa's own order of events.
"""
import asyncio
import time
from typing import List

from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot.handoff_relay import HandoffRelay


async def recording_backend(calls: List[str]) -> web.AppRunner:
    async def record(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response({"conversation_ids": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def relay_for(runner: web.AppRunner) -> HandoffRelay:
    port = runner.addresses[0][1]
    return await HandoffRelay.from_endpoint_config(EndpointConfig(url=f"http://127.0.0.1:{port}"))


async def settle(relay: HandoffRelay) -> None:
    await asyncio.gather(relay._started, *relay._tails.values())


async def test_a_member_who_closes_the_chat_before_the_pause_is_stored_is_reported():
    """The hand-off message reaches the widget before Rasa stores the turn and publishes its pause."""
    calls: List[str] = []
    runner = await recording_backend(calls)
    relay = await relay_for(runner)
    try:
        relay.members_left(["member-1"])
        await settle(relay)
        assert "/api/v1/escalations/user-left" not in calls  # not paused: nothing to report yet
        # then Rasa stores the turn that handed off and publishes its events: the "yes", then the pause
        relay.publish({"event": "user", "sender_id": "member-1", "text": "yes", "timestamp": time.time() - 1})
        relay.publish({"event": "pause", "sender_id": "member-1"})
        await settle(relay)
        assert calls.count("/api/v1/escalations/user-left") == 1
    finally:
        await relay.close()
        await runner.cleanup()


async def test_a_member_who_comes_back_before_the_pause_is_not_reported_as_gone():
    calls: List[str] = []
    runner = await recording_backend(calls)
    relay = await relay_for(runner)
    try:
        relay.members_left(["member-1"])  # a page reload
        relay.publish({"event": "user", "sender_id": "member-1", "text": "yes", "timestamp": time.time() + 1})
        relay.publish({"event": "pause", "sender_id": "member-1"})
        await settle(relay)
        assert "/api/v1/escalations/user-left" not in calls
    finally:
        await relay.close()
        await runner.cleanup()
