"""Replies per second and reply latency through the Slack and Teams channels, beside REST.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python -m bench.channels [--turns 300] [--levels 1,10]

Starts the help desk (`bot.cli.isolated_stack`, as `make run` does) with both
staff channels on, pointed at the local fakes of Slack's Web API and of the
Bot Framework (tests/channels/fakes.py). Each turn is a real signed request:
an HMAC-signed Events API callback for Slack, an activity with an RS256
bearer token for Teams (one token reused, as the Bot Framework does), a plain
POST for REST. A turn's latency runs from sending the request to the first
reply: the REST response, or the reply's arrival at the fake Slack or the
fake connector (Slack and Teams are acknowledged first and answered later).
The messages are staff questions answered from the FAQ, so the channels are
compared rather than the backend. Prints p50/p99 and replies per second per
channel and concurrency level. A benchmark that prints figures, not a test.
"""
import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Awaitable, Callable, Dict, List

import aiohttp

from bench.turns import Budget, LevelResult
from bot.cli import isolated_stack, model_path, new_secret
from tests.channels.fakes import FakeMicrosoft, FakeSlack

QUESTIONS = [
    "what user roles are there in System Link?",
    "which web browsers does System Link support",
    "how do I get CE credit for a conference I went to",
    "what's my user ID for the Learning Center?",
    "could you list all of your help desk phone numbers",
]


class Replies:
    """Futures for the next reply in each conversation, completed from the fakes' server threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.waiting: Dict[str, asyncio.Future] = {}

    def expect(self, conversation: str) -> asyncio.Future:
        self.waiting[conversation] = self.loop.create_future()
        return self.waiting[conversation]

    def arrived(self, conversation: str) -> None:
        def settle():
            future = self.waiting.pop(conversation, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
        self.loop.call_soon_threadsafe(settle)


Turn = Callable[[aiohttp.ClientSession, str, str], Awaitable[None]]


def channel_turns(rasa_url: str, slack: FakeSlack, microsoft: FakeMicrosoft, replies: Replies) -> Dict[str, Turn]:
    token = microsoft.token()

    async def rest(session, conversation, text):
        async with session.post(f"{rasa_url}/webhooks/rest/webhook",
                                json={"sender": conversation, "message": text}) as response:
            response.raise_for_status()
            if not await response.json():
                raise RuntimeError("no reply")

    async def via_slack(session, conversation, text):
        reply = replies.expect(f"D{conversation}")
        body = json.dumps({"type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex}",
                           "authorizations": [{"user_id": "UBOT"}],
                           "event": {"type": "message", "channel_type": "im", "user": conversation,
                                     "channel": f"D{conversation}", "text": text,
                                     "ts": f"{time.time():.6f}"}}).encode()
        headers = {"Content-Type": "application/json", **slack.sign(body)}
        async with session.post(f"{rasa_url}/webhooks/slack/webhook", data=body, headers=headers) as response:
            response.raise_for_status()
        await asyncio.wait_for(reply, 60)

    async def via_teams(session, conversation, text):
        reply = replies.expect(conversation)
        activity = microsoft.activity(text, user=f"29:{conversation}", conversation=conversation)
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(f"{rasa_url}/webhooks/teams/webhook", json=activity, headers=headers) as response:
            response.raise_for_status()
        await asyncio.wait_for(reply, 60)

    return {"REST": rest, "Slack": via_slack, "Teams": via_teams}


async def run_level(turn: Turn, concurrency: int, turns: int, seconds: float) -> LevelResult:
    result = LevelResult(concurrency)
    budget = Budget(turns, seconds)

    async def worker(session: aiohttp.ClientSession, index: int) -> None:
        while budget.claim():
            conversation = f"B{uuid.uuid4().hex[:12].upper()}"
            started = time.perf_counter()
            try:
                await turn(session, conversation, QUESTIONS[index % len(QUESTIONS)])
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
            except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError):
                result.errors += 1
            index += 1

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session, i) for i in range(concurrency)))
        result.elapsed_s = time.perf_counter() - started
    return result


async def measure(rasa_url: str, slack: FakeSlack, microsoft: FakeMicrosoft, levels: List[int], turns: int,
                  seconds: float) -> Dict[str, List[LevelResult]]:
    replies = Replies(asyncio.get_running_loop())
    slack.on_post = lambda message: replies.arrived(message.get("channel", ""))
    microsoft.on_reply = lambda activity: replies.arrived(activity["conversation"]["id"])
    results: Dict[str, List[LevelResult]] = {}
    for name, turn in channel_turns(rasa_url, slack, microsoft, replies).items():
        await run_level(turn, 2, 20, seconds)  # warm-up
        results[name] = []
        for level in levels:
            results[name].append(await run_level(turn, level, turns, seconds))
            r = results[name][-1]
            print(f"  {name:5s} x{level:<3d} {len(r.latencies_ms)} replies, {r.errors} errors", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=300, help="turns per channel and level")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per channel and level")
    parser.add_argument("--levels", default="1,10", help="concurrent conversations, comma-separated")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    slack = FakeSlack(bot_token=f"xoxb-{new_secret()}", signing_secret=new_secret())
    microsoft = FakeMicrosoft(str(uuid.uuid4()), new_secret())
    settings = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
                "SLACK_API_URL": slack.api_url, "TEAMS_APP_ID": microsoft.app_id,
                "TEAMS_APP_PASSWORD": microsoft.app_password, "TEAMS_OPENID_METADATA_URL": microsoft.metadata_url,
                "TEAMS_TOKEN_URL": microsoft.token_url}
    try:
        with tempfile.TemporaryDirectory() as work, isolated_stack(model_path(), Path(work), settings=settings) as stack:
            print(f"Stack up at {stack.rasa_url}; {args.turns} turns or {args.seconds:.0f} s per channel and level.")
            results = asyncio.run(measure(stack.rasa_url, slack, microsoft, levels, args.turns, args.seconds))
    finally:
        slack.close()
        microsoft.close()
    print("\n| channel | concurrent conversations | replies/s | p50 | p99 | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, rows in results.items():
        for r in rows:
            print(f"| {name} | {r.concurrency} | {r.turns_per_s:.1f} | {r.percentile(50):.0f} ms | "
                  f"{r.percentile(99):.0f} ms | {r.errors} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
