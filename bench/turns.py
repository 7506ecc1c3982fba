"""Turn latency, throughput and memory of the whole help desk over the REST channel.

    cd /work/main && RASA_TELEMETRY_ENABLED=false PYTHONPATH=/work/main \\
        .venv/bin/python -m bench.turns [--turns 2000] [--seconds 60] [--levels 1,10,50] \\
        [--compare-stock] [--compare-default]

Starts the backend, the action server and Rasa (`bot.cli.Stack`, as `make run`
and the end-to-end tests do) on free loopback ports, with fresh temporary
SQLite files and random tokens. After a short warm-up it replays a mix of
help-desk conversations at each concurrency level: every worker is one
conversation at a time, each with a new sender id, until the level's turn
budget or time limit is used up. It prints p50/p95/p99 turn latency, turns per
second and errors per level, the CPU time each of the Rasa server, the action
server and the backend spent per turn (a figure another load on the machine
barely moves, unlike turns per second), and their peak resident memory (VmHWM).

Rasa runs as the help desk runs it, through bot/rasa_server.py. With
--compare-stock the same model is also served by plain `rasa run`, which shows
what those speed-ups are worth. With --compare-default it also trains Rasa's
default config (what `rasa init` writes: `recipe: default.v1`, `language: en`,
empty `pipeline:`/`policies:`) on the same domain and data, cached under
bench/out/ by a fingerprint, and serves it with plain `rasa run`, as a new
project would. Each stack starts after the previous one has stopped, replays
the same mix, and all are printed side by side.

With --profiles embedded,scale it also runs the scale profile (bot/scale.py:
one Rasa replica behind nginx, PostgreSQL, Redis) and with
--conversation-length 200 it times the last 10 turns of three 200-turn
conversations per stack against the same messages at turns 5-14 of new
conversations, sent alternately. It prints figures; with both profiles it
checks issue 12's goals (scale within 1.3x of the embedded default's turns
per second at 10 conversations, turn 200 within 1.5x of turn 5) and exits 1
when one is missed (`make test-scale`).
"""
import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import random
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp

from bot.cli import BIN, ROOT, Stack, child_env, isolated_stack, model_path
from bot.scale import forget, scale_stack

OUT = ROOT / "bench" / "out"

# What `rasa init` writes: Rasa fills in its default pipeline and policies.
DEFAULT_CONFIG = """\
recipe: default.v1
assistant_id: avera-bench-rasa-default
language: en
pipeline:
policies:
"""
# What the default-config model depends on (its config is DEFAULT_CONFIG).
DEFAULT_MODEL_INPUTS = ["domain.yml", "data"]

WHICH_NUMBER = "which number do I call?"

# (weight, label, messages). Weights are per conversation; the form
# conversations are longer, so they are a larger share of the turns.
CONVERSATIONS: List[Tuple[int, str, List[str]]] = [
    (2, "MyChart sign-up", ["hi there", "how do I sign up for MyChart?", "thanks!"]),
    (2, "access code", ["what is a MyChart activation code and where do I get one", WHICH_NUMBER]),
    (2, "lockout", ["I typed my password wrong too many times and now I'm locked out",
                    "how long do I have to wait before I can try again?"]),
    (2, "teen access", ["can my 15 year old daughter have her own MyChart account?", "thank you"]),
    (2, "System Link roles / browsers", ["what user roles are there in System Link?",
                                         "which web browsers does System Link support"]),
    (2, "Learning Center user ID", ["what's my user ID for the Learning Center?", WHICH_NUMBER]),
    (2, "CE credits", ["how do I get CE credit for a conference I went to", WHICH_NUMBER]),
    (2, "Health Plans", ["good morning", "where do Avera Health Plans members log in?"]),
    (2, "phone numbers", ["could you list all of your help desk phone numbers", "great, bye"]),
    (1, "out of scope", ["hello", "can you recommend a good pizza place downtown?"]),
    (2, "access-code form", ["I need a new access code for MyChart", "Jordan Demo", "04/12/1985",
                             "jordan.demo@example.org", "yes", "thanks a lot"]),
    (1, "access-code form (teen)", ["please send me a new MyChart access code", "Riley Sample",
                                    "June 20, 2009", "riley.sample@example.org", "yes"]),
]


@dataclass
class LevelResult:
    concurrency: int
    latencies_ms: List[float] = field(default_factory=list)  # successful turns only
    errors: int = 0
    empty: int = 0  # HTTP 200 with no bot message at all
    elapsed_s: float = 0.0
    peak_mb: Dict[str, float] = field(default_factory=dict)  # VmHWM after this level
    cpu_ms: Dict[str, float] = field(default_factory=dict)  # CPU time (user + system) used during this level

    @property
    def turns(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def turns_per_s(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def cpu_ms_per_turn(self, role: str) -> float:
        """CPU time a role's processes spent per answered turn: unlike turns/s, barely moved by other load."""
        return self.cpu_ms.get(role, float("nan")) / len(self.latencies_ms) if self.latencies_ms else float("nan")

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the sorted successful-turn latencies."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class RunResult:
    label: str
    model: Path
    model_mb: float  # measured at start: a concurrent `make train` may replace the file later
    startup_s: float
    levels: List[LevelResult]
    final_mb: Dict[str, float]
    early_ms: float = float("nan")  # median latency of 10 messages at turns 5-14 of new conversations
    late_ms: float = float("nan")  # median latency of the same messages as the last 10 of long ones


# --- load generator -----------------------------------------------------------------------------

class Budget:
    """A level's shared turn budget and deadline; workers claim a turn before sending it."""

    def __init__(self, turns: int, seconds: float):
        self.left = turns
        self.deadline = time.perf_counter() + seconds

    def claim(self) -> bool:
        if self.left <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.left -= 1
        return True


def member_address() -> str:
    """A client address of its own for one conversation: the backend limits identity checks per address."""
    return f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"


async def say(session: aiohttp.ClientSession, url: str, sender: str, message: str,
              client_address: str) -> List[Dict]:
    """One turn; the client address is forwarded as by a proxy (the stack trusts 127.0.0.1 as one)."""
    async with session.post(url, json={"sender": sender, "message": message},
                            headers={"X-Forwarded-For": client_address}) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        replies = json.loads(body or b"[]")
        if not isinstance(replies, list):
            raise RuntimeError(f"unexpected body: {body[:200]!r}")
        return replies


async def worker(session, url: str, budget: Budget, pick, result: LevelResult, run_id: str,
                 transcript: Optional[List[str]]) -> None:
    while True:
        label, messages = pick()
        sender = f"bench-{run_id}-{uuid.uuid4().hex[:12]}"
        client_address = member_address()
        if transcript is not None:
            transcript.append(f"--- {label} ({sender})")
        for message in messages:
            if not budget.claim():
                return
            started = time.perf_counter()
            try:
                replies = await say(session, url, sender, message, client_address)
            except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError, ValueError) as error:
                result.errors += 1
                if transcript is not None:
                    transcript.append(f"  user: {message}\n  ERROR: {error!r}")
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            texts = [r.get("text") or "" for r in replies]
            if not any(texts) and not any(r.get("buttons") for r in replies):
                result.empty += 1
            if transcript is not None:
                shown = " | ".join(t.replace("\n", " ")[:110] for t in texts if t)
                transcript.append(f"  user: {message}\n  bot:  {shown or '(no reply)'}")


async def run_level(rasa_url: str, concurrency: int, turns: int, seconds: float, rng: random.Random,
                    request_timeout: float, transcript: Optional[List[str]] = None) -> LevelResult:
    url = f"{rasa_url}/webhooks/rest/webhook"
    weights = [w for w, _, _ in CONVERSATIONS]

    def pick() -> Tuple[str, List[str]]:
        _, label, messages = rng.choices(CONVERSATIONS, weights=weights)[0]
        return label, messages

    result = LevelResult(concurrency)
    run_id = secrets.token_hex(3)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        budget = Budget(turns, seconds)
        started = time.perf_counter()
        await asyncio.gather(*(worker(session, url, budget, pick, result, run_id, transcript)
                               for _ in range(concurrency)))
        result.elapsed_s = time.perf_counter() - started
    return result


async def long_conversation(rasa_url: str, length: int,
                            request_timeout: float) -> Tuple[List[float], List[float]]:
    """One conversation of `length` FAQ turns (no forms): what its history costs, in ms per turn.

    Returns the latencies of the same 10 messages at turns 5-14 of a new
    conversation and as the last 10 turns of the long one, sent alternately:
    both see the same messages and the same load on the machine, so the ratio
    is the cost of the history even when other work comes and goes.
    """
    messages = [m for _, label, ms in CONVERSATIONS if "form" not in label for m in ms]
    url = f"{rasa_url}/webhooks/rest/webhook"
    long_sender, new_sender = (f"bench-long-{uuid.uuid4().hex[:12]}" for _ in range(2))
    client_address = member_address()
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def turn(sender: str, message: str) -> float:
            started = time.perf_counter()
            await say(session, url, sender, message, client_address)
            return (time.perf_counter() - started) * 1000

        for index in range(length - 10):
            await turn(long_sender, messages[index % len(messages)])
        for index in range(4):
            await turn(new_sender, messages[index % len(messages)])
        early, late = [], []
        for index in range(length - 10, length):
            message = messages[index % len(messages)]
            late.append(await turn(long_sender, message))
            early.append(await turn(new_sender, message))
    return early, late


def median(values: List[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


# --- the stack, its memory, and the models --------------------------------------------------------

def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> List[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child] + descendants(child)
    return found


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), in milliseconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def role_pids(stack: Stack) -> Dict[str, List[int]]:
    """The processes of each role (rasa, action server, backend), with their children."""
    roles: Dict[str, List[int]] = {"rasa": [], "action server": [], "backend": []}
    for service in stack.services:
        role = next((r for r in roles if service.name.startswith(r)), None)
        if role:
            roles[role] += [service.process.pid] + descendants(service.process.pid)
    return roles


def cpu_ms_by_role(stack: Stack) -> Dict[str, float]:
    return {role: sum(cpu_ms(pid) for pid in pids) for role, pids in role_pids(stack).items()}


def peak_mb(stack: Stack) -> Dict[str, float]:
    """VmHWM (peak RSS) per role (rasa, action server, backend), summed over its processes and their children."""
    return {role: sum(status_kb(pid, "VmHWM") for pid in pids) / 1024 for role, pids in role_pids(stack).items()}


def ensure_project_model() -> Path:
    model = model_path()
    if not model.exists():
        print(f"No trained model at {model.relative_to(ROOT)}: training it (nice)...", flush=True)
        subprocess.run(["nice", "-n", "10", str(BIN / "python"), "-m", "bot.cli", "train"],
                       cwd=ROOT, env=child_env(), check=True)
    return model


def default_fingerprint() -> str:
    digest = hashlib.sha256(DEFAULT_CONFIG.encode())
    digest.update(subprocess.run([str(BIN / "python"), "-c", "import rasa; print(rasa.__version__)"],
                                 capture_output=True, text=True, env=child_env()).stdout.encode())
    for entry in DEFAULT_MODEL_INPUTS:
        path = ROOT / entry
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def ensure_default_model() -> Path:
    """Rasa's default config trained on this project's domain and data, cached by fingerprint."""
    out = OUT / "default-model"
    name = f"rasa-default-{default_fingerprint()}"
    model = out / f"{name}.tar.gz"
    if model.exists():
        print(f"Default-config model is cached: {model.relative_to(ROOT)}", flush=True)
        return model
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.yml"
    config.write_text(DEFAULT_CONFIG)  # Rasa writes the defaults it chose back into this file
    log = out / "train.log"
    print(f"Training Rasa's default config on domain.yml + data/ (nice; log: {log.relative_to(ROOT)})...",
          flush=True)
    started = time.perf_counter()
    with log.open("wb") as log_file:
        subprocess.run(
            ["nice", "-n", "10", str(BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml",
             "--data", "data", "--out", str(out), "--fixed-model-name", name],
            cwd=ROOT, env=child_env({"RASA_CACHE_DIRECTORY": str(OUT / "rasa-cache")}),
            stdout=log_file, stderr=subprocess.STDOUT, check=True,
        )
    print(f"Trained in {time.perf_counter() - started:.0f} s: {model.relative_to(ROOT)}", flush=True)
    for old in out.glob("rasa-default-*.tar.gz"):
        if old != model:
            old.unlink()
    return model


def bench_stack(label: str, model: Path, args: argparse.Namespace, speed_ups: bool,
                profile: str = "embedded") -> RunResult:
    """One stack: the embedded default (isolated_stack) or the scale profile with one Rasa replica."""
    with tempfile.TemporaryDirectory(prefix="bench-turns-") as tmp:
        work = Path(tmp)
        if profile == "scale":
            stack = scale_stack(model, work, replicas=1, action_servers=1)
            try:
                return measure_stack(label, model, args, stack)
            finally:
                forget(stack)
        return measure_stack(label, model, args, isolated_stack(model, work, speed_ups))


def measure_stack(label: str, model: Path, args: argparse.Namespace, stack: Stack) -> RunResult:
    ports = stack.ports
    print(f"\n[{label}] starting the stack with {model.relative_to(ROOT)} "
          f"(rasa :{ports.rasa}, actions :{ports.actions}, backend :{ports.backend})...", flush=True)
    model_mb = model.stat().st_size / 2**20
    started = time.perf_counter()
    with stack:
        startup_s = time.perf_counter() - started
        print(f"[{label}] healthy after {startup_s:.1f} s; memory after start (VmHWM MB): "
              + ", ".join(f"{k} {v:.0f}" for k, v in peak_mb(stack).items()), flush=True)
        rng = random.Random(args.seed)  # the same sequence of conversations for every stack
        transcript = [] if args.show_replies else None
        warm = asyncio.run(run_level(stack.rasa_url, 1, args.warmup_turns, 60, rng, args.request_timeout,
                                     transcript))
        print(f"[{label}] warm-up: {warm.turns} turns, {warm.errors} errors, "
              f"p50 {warm.percentile(50):.0f} ms", flush=True)
        if transcript:
            print("\n".join(transcript), flush=True)
        levels = []
        for concurrency in args.levels:
            cpu_before = cpu_ms_by_role(stack)
            level = asyncio.run(run_level(stack.rasa_url, concurrency, args.turns, args.seconds, rng,
                                          args.request_timeout))
            level.cpu_ms = {role: ms - cpu_before[role] for role, ms in cpu_ms_by_role(stack).items()}
            level.peak_mb = peak_mb(stack)
            levels.append(level)
            print(f"[{label}] {concurrency:>3} concurrent: {level.turns} turns in {level.elapsed_s:.1f} s, "
                  f"p50 {level.percentile(50):.0f} ms, {level.errors} errors", flush=True)
            if (exited := stack.first_exited()) is not None:
                print(f"[{label}] {exited.name} exited; its log: {exited.log_path}")
                break
        result = RunResult(label, model, model_mb, startup_s, levels, peak_mb(stack))
        if args.conversation_length:
            runs = [asyncio.run(long_conversation(stack.rasa_url, args.conversation_length,
                                                  args.request_timeout)) for _ in range(3)]
            result.early_ms = median([ms for early, _ in runs for ms in early])
            result.late_ms = median([ms for _, late in runs for ms in late])
            print(f"[{label}] 3 conversations of {args.conversation_length} turns: median latency of their "
                  f"last 10 turns {result.late_ms:.1f} ms, of the same messages at turns 5-14 of new ones "
                  f"{result.early_ms:.1f} ms", flush=True)
    return result


# --- report -----------------------------------------------------------------------------------

def print_machine(args: argparse.Namespace) -> None:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rasa_version = subprocess.run([str(BIN / "python"), "-c", "import rasa; print(rasa.__version__)"],
                                  capture_output=True, text=True, env=child_env()).stdout.strip()
    print(f"command: cd {shlex.quote(os.getcwd())} && "
          f"RASA_TELEMETRY_ENABLED={os.environ.get('RASA_TELEMETRY_ENABLED', '')} "
          f"PYTHONPATH={os.environ.get('PYTHONPATH', '')} {shlex.join(sys.orig_argv)}")
    print(f"machine: nproc {len(os.sched_getaffinity(0))} (of {os.cpu_count()}), CPU {cpu}, "
          f"{platform.system()} {platform.release()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"software: Python {platform.python_version()}, Rasa {rasa_version}, aiohttp {aiohttp.__version__}")
    print(f"limits per level: {args.turns} turns or {args.seconds:.0f} s, whichever comes first; "
          f"levels {','.join(map(str, args.levels))}; warm-up {args.warmup_turns} turns; seed {args.seed}; "
          f"request timeout {args.request_timeout:.0f} s; loopback only")
    total = sum(w for w, _, _ in CONVERSATIONS)
    turns = sum(w * len(m) for w, _, m in CONVERSATIONS)
    form_turns = sum(w * len(m) for w, label, m in CONVERSATIONS if "form" in label)
    print(f"mix: {len(CONVERSATIONS)} conversations, drawn by weight; expected share of turns in forms "
          f"{100 * form_turns / turns:.0f}%")
    for weight, label, messages in CONVERSATIONS:
        print(f"  {100 * weight / total:4.1f}%  {label:30s} {' / '.join(messages)}")


def fmt(value: float, digits: int = 0) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def print_run(run: RunResult) -> None:
    print(f"\n== {run.label}: {run.model.relative_to(ROOT)} ({run.model_mb:.1f} MB), "
          f"stack healthy after {run.startup_s:.1f} s")
    print(f"{'concurrency':>11} {'turns':>6} {'errors':>6} {'empty':>5} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'turns/s':>8} {'secs':>6} {'rasa MB':>8} {'actions MB':>10} {'backend MB':>10} "
          f"{'CPU ms/turn: rasa':>17} {'actions':>7} {'backend':>7}")
    for level in run.levels:
        print(f"{level.concurrency:>11} {level.turns:>6} {level.errors:>6} {level.empty:>5} "
              f"{fmt(level.percentile(50)):>8} {fmt(level.percentile(95)):>8} {fmt(level.percentile(99)):>8} "
              f"{fmt(level.turns_per_s, 1):>8} {level.elapsed_s:>6.1f} {level.peak_mb['rasa']:>8.0f} "
              f"{level.peak_mb['action server']:>10.0f} {level.peak_mb['backend']:>10.0f} "
              f"{fmt(level.cpu_ms_per_turn('rasa'), 2):>17} {fmt(level.cpu_ms_per_turn('action server'), 2):>7} "
              f"{fmt(level.cpu_ms_per_turn('backend'), 2):>7}")
    print("CPU ms/turn: user + system time (/proc/<pid>/stat) each role used during the level, per answered turn")
    print("peak RSS (VmHWM from /proc/<pid>/status) over the whole run: "
          + ", ".join(f"{name} {mb:.0f} MB" for name, mb in run.final_mb.items()))


def print_comparison(runs: List[RunResult]) -> None:
    """One column per run; the ratio is the first run (this project) over the last one."""
    rows: List[Tuple[str, List[float], int]] = []
    for levels in zip(*(run.levels for run in runs)):
        c = levels[0].concurrency
        rows += [
            (f"c={c} turns", [level.turns for level in levels], 0),
            (f"c={c} errors", [level.errors for level in levels], 0),
            (f"c={c} p50 latency ms", [level.percentile(50) for level in levels], 0),
            (f"c={c} p95 latency ms", [level.percentile(95) for level in levels], 0),
            (f"c={c} p99 latency ms", [level.percentile(99) for level in levels], 0),
            (f"c={c} turns/s", [level.turns_per_s for level in levels], 1),
            (f"c={c} rasa CPU ms/turn", [level.cpu_ms_per_turn("rasa") for level in levels], 2),
        ]
    for name in runs[0].final_mb:
        rows.append((f"{name} peak RSS MB", [run.final_mb[name] for run in runs], 0))
    rows.append(("model file MB", [run.model_mb for run in runs], 1))
    rows.append(("long conv. turns 5-14 ms", [run.early_ms for run in runs], 1))
    rows.append(("long conv. last 10 ms", [run.late_ms for run in runs], 1))
    rows.append(("stack startup s", [run.startup_s for run in runs], 1))
    width = max(14, *(len(run.label) for run in runs))
    print(f"\n== side by side (ratio = {runs[0].label} / {runs[-1].label})")
    print(f"{'metric':26s} | " + " | ".join(f"{run.label:>{width}s}" for run in runs) + f" | {'ratio':>6s}")
    print(f"{'-' * 26}-+-" + "-+-".join("-" * width for _ in runs) + f"-+-{'-' * 6}")
    for name, values, digits in rows:
        first, last = values[0], values[-1]
        ratio = fmt(first / last, 2) if last and first == first and last == last else "-"
        print(f"{name:26s} | " + " | ".join(f"{fmt(v, digits):>{width}s}" for v in values) + f" | {ratio:>6s}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=2000, help="turn budget per level (default 2000)")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per level (default 60)")
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50],
                        help="concurrent conversations per level (default 1,10,50)")
    parser.add_argument("--warmup-turns", type=int, default=20, help="unmeasured turns first (default 20)")
    parser.add_argument("--request-timeout", type=float, default=60, help="per turn, seconds (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the conversation sequence (default 1)")
    parser.add_argument("--compare-default", action="store_true",
                        help="also benchmark Rasa's default config trained on the same data")
    parser.add_argument("--compare-stock", action="store_true",
                        help="also benchmark this project's model on plain `rasa run` (without bot/rasa_server.py)")
    parser.add_argument("--show-replies", action="store_true", help="print the warm-up conversations")
    parser.add_argument("--profiles", default="embedded",
                        help="embedded and/or scale (PostgreSQL + Redis, one Rasa replica behind nginx), "
                             "comma-separated; with both, the goals below are checked (default embedded)")
    parser.add_argument("--conversation-length", type=int, default=0,
                        help="also time 3 conversations of this many turns each (e.g. 200); goal: the last "
                             "turns within 1.5x of the first ones")
    args = parser.parse_args()

    print_machine(args)
    ours_model = ensure_project_model()
    default_model = ensure_default_model() if args.compare_default else None
    profiles = args.profiles.split(",")
    runs = [bench_stack("this project" if profile == "embedded" else "scale profile", ours_model, args,
                        speed_ups=True, profile=profile) for profile in profiles]
    if args.compare_stock:
        runs.append(bench_stack("plain rasa run", ours_model, args, speed_ups=False))
    if default_model:
        runs.append(bench_stack("Rasa default", default_model, args, speed_ups=False))
    for run in runs:
        print_run(run)
    if len(runs) > 1:
        print_comparison(runs)
    return 0 if goals_met(runs[:len(profiles)], args) else 1


def goals_met(runs: List[RunResult], args: argparse.Namespace) -> bool:
    """The scale profile's goals (issue 12): per-process speed, and cost that does not grow with the conversation."""
    met = True
    if len(runs) == 2 and 10 in args.levels:
        at_10 = [next(level for level in run.levels if level.concurrency == 10) for run in runs]
        ratio = at_10[0].turns_per_s / at_10[1].turns_per_s if at_10[1].turns_per_s else float("inf")
        ok = ratio <= 1.3
        met &= ok
        print(f"goal: scale profile within 1.3x of the embedded default's turns/s at 10 conversations: "
              f"{at_10[0].turns_per_s:.1f} vs {at_10[1].turns_per_s:.1f} turns/s, {ratio:.2f}x "
              f"{'MET' if ok else 'MISSED'}")
    for run in runs if args.conversation_length else []:
        ratio = run.late_ms / run.early_ms
        ok = ratio <= 1.5
        met &= ok
        print(f"goal: {run.label}: turn {args.conversation_length} within 1.5x of turn 5: "
              f"{run.early_ms:.1f} -> {run.late_ms:.1f} ms, {ratio:.2f}x {'MET' if ok else 'MISSED'}")
    return met


if __name__ == "__main__":
    sys.exit(main())
