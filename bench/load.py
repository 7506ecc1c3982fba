"""Load on the scale profile through nginx: many conversations at once, 1 and 2 Rasa replicas side by side.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python -m bench.load \\
        [--conversations 200] [--turns 20] [--replicas 1,2]

For each replica count it starts the scale profile (bot.scale.scale_stack: a
new PostgreSQL database, Redis, that many Rasa replicas, two action servers,
nginx) on loopback, runs `--conversations` conversations at once, each of
`--turns` turns drawn from bench/turns.py's mix (forms included, several
topics in a row under one sender), and then reads the tracker store: every
user message must be stored exactly once and in the order it was sent. It
prints p50/p95/p99 turn latency, turns per second and failed turns per
replica count, and exits non-zero when a turn failed or a conversation's
stored messages differ from what was sent.
"""
import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from collections import Counter
from typing import Dict, List, Tuple

import aiohttp
import psycopg2

from bench.turns import CONVERSATIONS, LevelResult, ensure_project_model, member_address, peak_mb, say
from bot.scale import POSTGRES_ADMIN, ScaleStack, forget, scale_stack


def conversation_of(turns: int, rng: random.Random) -> List[str]:
    """`turns` messages: mix conversations one after another, as one member asking about several things."""
    weights = [w for w, _, _ in CONVERSATIONS]
    messages: List[str] = []
    while len(messages) < turns:
        messages += rng.choices(CONVERSATIONS, weights=weights)[0][2]
    return messages[:turns]


async def run_load(stack: ScaleStack, conversations: int, turns: int, seed: int,
                   request_timeout: float) -> Tuple[LevelResult, Dict[str, List[str]], Counter]:
    """The turns' latencies, the plan of each conversation, and why turns failed (shortened, counted)."""
    rng = random.Random(seed)
    plans = {f"load-{uuid.uuid4().hex[:12]}": conversation_of(turns, rng) for _ in range(conversations)}
    result = LevelResult(conversations)
    failures: Counter = Counter()
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    connector = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=request_timeout)) as session:
        async def member(sender: str, messages: List[str]) -> None:
            client_address = member_address()
            for message in messages:
                started = time.perf_counter()
                try:
                    replies = await say(session, url, sender, message, client_address)
                    if not any(r.get("text") for r in replies):
                        raise RuntimeError("no reply")
                except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError, ValueError) as error:
                    result.errors += 1
                    failures[f"{type(error).__name__}: {str(error)[:90]}"] += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(member(sender, messages) for sender, messages in plans.items()))
        result.elapsed_s = time.perf_counter() - started
    return result, plans, failures


def stored_user_messages(database: str) -> Dict[str, List[str]]:
    connection = psycopg2.connect(**{**POSTGRES_ADMIN, "dbname": database})
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")
            stored: Dict[str, List[str]] = {}
            for sender, data in cursor.fetchall():
                stored.setdefault(sender, []).append(json.loads(data)["text"])
            return stored
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--replicas", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--request-timeout", type=float, default=120)
    args = parser.parse_args()
    model = ensure_project_model()
    rows = []
    ok = True
    for replicas in args.replicas:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            stack = scale_stack(model, Path(tmp), replicas=replicas, action_servers=2)
            try:
                with stack:
                    print(f"[{replicas} replica(s)] warm-up...", flush=True)
                    asyncio.run(run_load(stack, 4, 5, args.seed + 1, args.request_timeout))
                    print(f"[{replicas} replica(s)] {args.conversations} conversations x {args.turns} turns "
                          "through nginx...", flush=True)
                    result, plans, failures = asyncio.run(run_load(stack, args.conversations, args.turns,
                                                                   args.seed, args.request_timeout))
                    memory = peak_mb(stack)
                stored = stored_user_messages(stack.database)
            finally:
                forget(stack)
        # The redaction in the channels may change a message; none of the mix's messages holds a secret.
        wrong = [sender for sender, messages in plans.items() if stored.get(sender) != messages]
        rows.append((replicas, result, len(wrong), memory))
        ok &= result.errors == 0 and not wrong
        print(f"[{replicas} replica(s)] {len(result.latencies_ms)} turns in {result.elapsed_s:.1f} s, "
              f"{result.errors} failed, {len(wrong)} conversations stored differently from what was sent",
              flush=True)
        for reason, count in failures.most_common(5):
            print(f"    {count} x {reason}", flush=True)
    print(f"\n{'replicas':>8} {'turns':>6} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'turns/s':>8} {'stored wrong':>12} {'rasa MB (all)':>13}")
    for replicas, result, wrong, memory in rows:
        print(f"{replicas:>8} {result.turns:>6} {result.errors:>6} {result.percentile(50):>7.0f} "
              f"{result.percentile(95):>7.0f} {result.percentile(99):>7.0f} {result.percentile(100):>7.0f} "
              f"{result.turns_per_s:>8.1f} "
              f"{wrong:>12} {memory['rasa']:>13.0f}")
    print("goal: 0 failed turns, every user message stored once and in order:", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
