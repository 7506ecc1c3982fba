"""Hand-off latency: concurrent escalations with agents replying, over the whole stack.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python -m bench.handoff [--members 50] [--rounds 5] [--think-ms 1000]

Starts the backend, the action server and Rasa on free loopback ports (`bot.cli.isolated_stack`).
Each member is a socket.io client, as the website widget is: it asks for a person, says yes, and
is queued. Agents (the demo agent, one console session per ten members) follow the queue over the
console's server-sent event stream, claim the escalations and, for `--rounds` rounds per
conversation, every member writes and its agent replies as soon as the message is on the screen.
Two latencies are measured, all conversations at once:

- member -> agent: from the member's socket.io `user_uttered` to the message arriving on the
  agent's event stream (Rasa stores it, the relay posts it, the backend stores and publishes it);
- agent -> member: from the agent's reply request to the `bot_uttered` event with the agent's
  name arriving at the member's socket (the backend stores it, Rasa appends and emits it).

Rasa's lock store retries a conversation's lock once a second, so a message that arrives while
the previous turn of the same conversation still holds it waits up to a second. People take longer
than that to read and type: each side pauses about --think-ms (default 1000, varied by half) before
writing; the pause
is not part of any measured time. --think-ms 0 shows the back-to-back worst case.

It prints p50/p95/p99 and the maximum of each. A benchmark that prints figures, not a test.
"""
import argparse
import asyncio
import json
import math
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp
import socketio

from bot.cli import isolated_stack, model_path

DEMO_AGENT = {"username": "demo.agent", "password": "DemoAgent-2024!"}
MEMBERS_PER_AGENT = 10
REPLY_TIMEOUT_SECONDS = 120


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


class Member:
    """A website visitor on Rasa's socket.io channel."""

    def __init__(self, rasa_url: str):
        self.rasa_url = rasa_url
        self.session_id = uuid.uuid4().hex
        self.client = socketio.AsyncClient(reconnection=False)
        self.inbox: "asyncio.Queue[Tuple[float, Dict]]" = asyncio.Queue()
        self.client.on("bot_uttered", self._received)

    async def _received(self, data: Dict) -> None:
        await self.inbox.put((time.perf_counter(), data))

    async def connect(self) -> None:
        confirmed = asyncio.Event()
        self.client.on("session_confirm", lambda *_: confirmed.set())
        # long-polling: this engineio client's websocket transport needs a newer aiohttp than Rasa pins
        await self.client.connect(self.rasa_url, socketio_path="/socket.io", transports=["polling"])
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(confirmed.wait(), REPLY_TIMEOUT_SECONDS)

    async def close(self) -> None:
        await self.client.disconnect()
        if self.client.eio.http is not None:  # the polling transport's HTTP session stays open otherwise
            await self.client.eio.http.close()

    async def say(self, text: str) -> float:
        sent = time.perf_counter()
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return sent

    async def wait_for(self, match) -> Tuple[float, Dict]:
        while True:
            received, data = await asyncio.wait_for(self.inbox.get(), REPLY_TIMEOUT_SECONDS)
            if match(data):
                return received, data


class AgentConsole:
    """One signed-in console: its session, and the event stream it watches."""

    def __init__(self, backend_url: str):
        self.api = backend_url + "/api/v1"
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          timeout=aiohttp.ClientTimeout(total=None, sock_read=None))
        self.csrf = ""
        self.waiting: Dict[str, asyncio.Future] = {}  # message text -> arrival time

    async def sign_in(self) -> None:
        async with self.http.post(self.api + "/agent/sign-in", json=DEMO_AGENT) as reply:
            reply.raise_for_status()
            self.csrf = (await reply.json())["csrf_token"]

    async def follow(self, ready: asyncio.Event) -> None:
        async with self.http.get(self.api + "/escalations/stream") as stream:
            ready.set()
            event = ""
            async for raw in stream.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: ") and event == "message":
                    message = json.loads(line[len("data: "):])
                    future = self.waiting.pop(message["text"], None) if message["sender"] == "user" else None
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())

    def expect(self, text: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[text] = future
        return future

    async def post(self, path: str, body: Dict) -> Dict:
        async with self.http.post(self.api + path, json=body, headers={"X-CSRF-Token": self.csrf}) as reply:
            data = await reply.json()
            if reply.status >= 400:
                raise RuntimeError(f"{path}: {reply.status} {data}")
            return data

    async def find(self, reference: str) -> int:
        async with self.http.get(self.api + "/escalations?status=queued") as reply:
            for row in (await reply.json())["escalations"]:
                if row["reference"] == reference:
                    return row["id"]
        raise RuntimeError(f"{reference} not in the queue")


async def conversation(member: Member, console: AgentConsole, rounds: int, think_s: float,
                       to_agent: List[float], to_member: List[float]) -> None:
    await member.connect()
    await member.say("can I talk to a real person")
    await member.wait_for(lambda data: "Shall I connect you?" in (data.get("text") or ""))
    await member.say("yes")
    _, started = await member.wait_for(lambda data: "reference is HD-" in (data.get("text") or ""))
    reference = started["text"].split("reference is ")[1].split(".")[0]
    escalation_id = await console.find(reference)
    await console.post(f"/escalations/{escalation_id}/claim", {})
    for round_number in range(rounds):
        await asyncio.sleep(think_s * random.uniform(0.5, 1.5))  # the member reads the reply and types
        text = f"question {round_number} from {member.session_id}"
        arrived = console.expect(text)
        sent = await member.say(text)
        to_agent.append((await asyncio.wait_for(arrived, REPLY_TIMEOUT_SECONDS) - sent) * 1000)
        await asyncio.sleep(think_s * random.uniform(0.5, 1.5))  # the agent reads and types
        answer = f"answer {round_number} for {member.session_id}"
        replied = time.perf_counter()
        await console.post(f"/escalations/{escalation_id}/reply", {"text": answer})
        received, _ = await member.wait_for(lambda data: data.get("text") == answer and data.get("agent_name"))
        to_member.append((received - replied) * 1000)
    await console.post(f"/escalations/{escalation_id}/resolve", {"note": "benchmark"})
    await member.close()


async def run(rasa_url: str, backend_url: str, members: int, rounds: int,
              think_s: float) -> Tuple[List[float], List[float], float]:
    consoles = [AgentConsole(backend_url) for _ in range(math.ceil(members / MEMBERS_PER_AGENT))]
    followers = []
    for console in consoles:
        await console.sign_in()
        ready = asyncio.Event()
        followers.append(asyncio.create_task(console.follow(ready)))
        await ready.wait()
    to_agent: List[float] = []
    to_member: List[float] = []
    started = time.perf_counter()
    try:
        await asyncio.gather(*(conversation(Member(rasa_url), consoles[i % len(consoles)], rounds, think_s,
                                            to_agent, to_member)
                               for i in range(members)))
    finally:
        for follower in followers:
            follower.cancel()
        for console in consoles:
            await console.http.close()
    return to_agent, to_member, time.perf_counter() - started


def report(label: str, values: List[float]) -> str:
    return (f"{label:16s} n={len(values):4d}  p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms"
            f"  p99 {percentile(values, 99):7.1f} ms  max {max(values):7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=50, help="concurrent escalations (default 50)")
    parser.add_argument("--rounds", type=int, default=5, help="member message + agent reply per conversation")
    parser.add_argument("--think-ms", type=float, default=1000,
                        help="pause before each message and reply, as people read and type (default 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as work:
        with isolated_stack(model_path(), Path(work), settings={
            "HELP_DESK_HOURS": "always", "HANDOFF_UNCLAIMED_SECONDS": "3600",
        }) as stack:
            to_agent, to_member, elapsed = asyncio.run(run(stack.rasa_url, stack.backend_url, args.members, args.rounds,
                                                       args.think_ms / 1000))
    print(f"{args.members} concurrent escalations, {args.rounds} member messages and agent replies each, "
          f"{args.think_ms:g} ms to read and type ({elapsed:.1f} s in all)")
    print(report("member -> agent", to_agent))
    print(report("agent -> member", to_member))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
