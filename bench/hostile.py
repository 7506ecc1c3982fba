"""Hostile chat input at volume through nginx: no server error, servers still answering, memory bounded.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python -m bench.hostile [--messages 10000]

Starts the scale profile (2 Rasa replicas behind nginx, PostgreSQL, Redis) on
loopback and sends `--messages` generated requests to the REST channel, 20 at
a time: random Unicode (astral planes, combining marks, right-to-left marks,
lone surrogates escaped in JSON), 100 KB texts, control characters and NULs,
`/intent{...}` payloads that try to set identity slots, malformed JSON, JSON
that is not an object (null, arrays, numbers), missing or wrongly typed
fields, and wrong content types. Afterwards a normal question must still get
its normal answer and every process's memory must stay within
`--max-growth-mb` of what it was after the warm-up. Prints the status codes
seen per kind of input; exits 1 on any 5xx, a lost server or unbounded memory.
"""
import argparse
import asyncio
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, Tuple

import aiohttp

from bench.turns import ensure_project_model, peak_mb, status_kb
from bot.scale import ScaleStack, forget, scale_stack

INTENTS = ["request_access_code", "greet", "request_password_reset", "affirm", "check_site_request_status"]


def random_unicode(rng: random.Random, length: int) -> str:
    ranges = [(0x20, 0x7E), (0xA0, 0x2FF), (0x300, 0x36F), (0x590, 0x6FF), (0x200B, 0x202E), (0x4E00, 0x9FFF),
              (0x1F300, 0x1FAFF), (0x10000, 0x10FFF), (0xE000, 0xF8FF)]
    return "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(length))


def hostile_request(rng: random.Random, index: int) -> Tuple[str, bytes, str]:
    """(kind, body, content type) for the index-th request."""
    sender = f"hostile-{index % 500}"
    kind = rng.choices(["unicode", "100KB text", "control chars", "/intent payload", "malformed JSON",
                        "not an object", "wrong field types", "wrong content type"],
                       weights=[30, 1, 15, 15, 10, 10, 10, 9])[0]
    if kind == "unicode":
        body = {"sender": sender, "message": random_unicode(rng, rng.randint(1, 400))}
    elif kind == "100KB text":
        body = {"sender": sender, "message": random_unicode(rng, 100) * 1000}
    elif kind == "control chars":
        body = {"sender": sender, "message": "".join(chr(rng.randint(0, 31)) for _ in range(rng.randint(1, 200)))}
    elif kind == "/intent payload":
        slots = {"full_name": random_unicode(rng, 20), "identity_confirmed": rng.choice([True, "yes", 1, None]),
                 "requested_slot": rng.choice([None, "date_of_birth", "x" * 300])}
        body = {"sender": sender, "message": f"/{rng.choice(INTENTS)}{json.dumps(slots)}"}
    elif kind == "malformed JSON":
        return kind, rng.choice([b'{"sender": "a", "message": ', b"{'sender': 'a'}", b"\xff\xfe\x00", b"{" * 5000,
                                 b'{"sender": "a", "message": "\\ud800"}']), "application/json"
    elif kind == "not an object":
        return kind, rng.choice([b"null", b"[]", b"[1, 2]", b"42", b'"text"', b"", b"true"]), "application/json"
    elif kind == "wrong field types":
        body = rng.choice([{"sender": None, "message": "hi"}, {"sender": ["a"], "message": "hi"},
                           {"sender": sender, "message": None}, {"sender": sender, "message": {"a": 1}},
                           {"sender": sender, "message": 12345}, {"message": "hi"}, {"sender": sender},
                           {"sender": "x" * 10_000, "message": "hi"}])
    else:
        return kind, json.dumps({"sender": sender, "message": "hi"}).encode(), rng.choice(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml"])
    return kind, json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"), \
        "application/json"


def rss_mb(stack: ScaleStack) -> Dict[str, float]:
    return {service.name: status_kb(service.process.pid, "VmRSS") / 1024 for service in stack.services
            if service.name != "nginx"}


async def send_all(url: str, count: int, seed: int) -> Dict[str, Counter]:
    rng = random.Random(seed)
    seen: Dict[str, Counter] = {}
    queue = [hostile_request(rng, i) for i in range(count)]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        async def worker() -> None:
            while queue:
                kind, body, content_type = queue.pop()
                try:
                    async with session.post(url, data=body, headers={"Content-Type": content_type}) as response:
                        await response.read()
                        status = str(response.status)
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    status = type(error).__name__
                seen.setdefault(kind, Counter())[status] += 1
        await asyncio.gather(*(worker() for _ in range(20)))
    return seen


async def normal_answer(url: str) -> bool:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.post(url, json={"sender": "hostile-check", "message": "i got locked out of mychart"}) as r:
            return r.status == 200 and "855-667-9704" in await r.text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-growth-mb", type=float, default=300)
    args = parser.parse_args()
    model = ensure_project_model()
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        stack = scale_stack(model, Path(tmp))
        try:
            with stack:
                url = f"{stack.rasa_url}/webhooks/rest/webhook"
                asyncio.run(send_all(url, 200, args.seed + 1))  # warm-up: models and caches loaded
                before = rss_mb(stack)
                seen = asyncio.run(send_all(url, args.messages, args.seed))
                after = rss_mb(stack)
                answering = asyncio.run(normal_answer(url)) and stack.first_exited() is None
                peaks = peak_mb(stack)
        finally:
            forget(stack)
    errors = 0
    print(f"{'input':20s} {'requests':>8}  status codes")
    for kind, statuses in sorted(seen.items()):
        errors += sum(n for status, n in statuses.items() if not status.isdigit() or status.startswith("5"))
        print(f"{kind:20s} {sum(statuses.values()):>8}  {dict(sorted(statuses.items()))}")
    growth = {name: after[name] - before[name] for name in after}
    print("memory growth over the run (VmRSS MB): " + ", ".join(f"{k} {v:+.0f}" for k, v in growth.items()))
    print("peak memory (VmHWM MB): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    print(f"server errors or dropped connections: {errors}; normal question answered afterwards: {answering}")
    met = errors == 0 and answering and max(growth.values()) <= args.max_growth_mb
    print("goals (0 server errors, still answering, memory bounded):", "MET" if met else "MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
