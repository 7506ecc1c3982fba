"""How long the backend's identity checks take with and without a match.

    .venv-backend/bin/python -m bench.identity_timing [--rounds 30]

The self-service endpoints (access code reissue, password reset, username
reminder) answer the same words whether or not the details match a record,
and they must take as long, or timing would tell who is a patient. Each answer
is padded to MIN_RESPONSE_SECONDS. This starts `python -m bot.backend` (in the
backend's venv, on a free loopback port, a fresh SQLite file, random tokens),
times `rounds` reissues for a real patient and as many for a stranger, each
from a new conversation and client address, and prints p50/p95/max of each and
the gap between the medians. A figure, not a test: it exits 0 unless the
backend cannot start.
"""
import argparse
import json
import random
import statistics
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

from bot.backend.routes.identity import MIN_RESPONSE_SECONDS
from bot.cli import Service, backend_python, child_env, free_port, new_secret
from bot.client_address import HEADER as CLIENT_ADDRESS_HEADER


def call(url: str, token: str, body: Dict, headers: Dict[str, str] = None) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        base = f"http://127.0.0.1:{port}/api/v1"
        admin, actions = new_secret(), new_secret()
        env = child_env({"BACKEND_ADMIN_TOKEN": admin, "BACKEND_ACTIONS_TOKEN": actions,
                         "BACKEND_SECRET_KEY": new_secret(), "BACKEND_PORT": str(port), "SMTP_HOST": "",
                         "BACKEND_DATABASE_URL": f"sqlite+aiosqlite:///{work}/backend.db"})
        backend = Service("backend", [str(backend_python()), "-m", "bot.backend"], f"{base}/healthz", env,
                          Path(work) / "backend.log")
        backend.start()
        try:
            backend.wait_healthy(timeout=60)
            timings = {"match": [], "no match": []}
            for _ in range(args.rounds):
                uid = uuid.uuid4().hex[:8]
                patient = {"first_name": "Bench", "last_name": f"Mark{uid}", "date_of_birth": "1980-01-01",
                           "email": f"bench.{uid}@example.org", "zip": "57104", "portal_account": False}
                call(f"{base}/patients", admin, patient)
                stranger = {**patient, "last_name": f"Nobody{uid}"}
                for kind, identity in (("match", patient), ("no match", stranger)):
                    body = {k: identity[k] for k in ("first_name", "last_name", "date_of_birth", "email")}
                    body["conversation_id"] = f"bench-{uuid.uuid4().hex}"
                    address = f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"
                    started = time.perf_counter()
                    status = call(f"{base}/access-codes/reissue", actions, body, {CLIENT_ADDRESS_HEADER: address})
                    timings[kind].append(time.perf_counter() - started)
                    assert status == 202, status
        finally:
            backend.stop()
    print(f"identity check (POST /access-codes/reissue), {args.rounds} rounds, "
          f"answers padded to {MIN_RESPONSE_SECONDS * 1000:.0f} ms")
    print(f"{'':10s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for kind, values in timings.items():
        print(f"{kind:10s} {percentile(values, 0.5) * 1000:8.1f} {percentile(values, 0.95) * 1000:8.1f} "
              f"{max(values) * 1000:8.1f}")
    gap = statistics.median(timings["match"]) - statistics.median(timings["no match"])
    print(f"median gap (match - no match): {gap * 1000:+.1f} ms")
    print(f"backend interpreter: {backend_python()}")


if __name__ == "__main__":
    main()
