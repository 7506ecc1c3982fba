"""Set up, train and run the whole help desk: `python -m bot.cli run|train|env|check-nlu`.

`make run` and `make test` call this module, and the end-to-end tests and
benchmarks start the same stack through `Stack`, so what a new user runs is
what the tests run.
"""
import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import yaml
from dotenv import dotenv_values

from bot import review_cli, safety_check
from bot.rasa_api import auth_headers

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The backend's own venv (current aiohttp, SQLAlchemy 2.0, no Rasa), built by `make install`.
BACKEND_PYTHON = ROOT / ".venv-backend" / "bin" / "python"
MODELS = ROOT / "models"
VAR = ROOT / "var"
ENV_FILE = ROOT / ".env"
ENV_EXAMPLE = ROOT / ".env.example"
PLACEHOLDER_SECRET = "change-me"
# What a trained model depends on; any change here means training again.
TRAINING_INPUTS = ["config.yml", "domain.yml", "data", "bot/nlu", "bot/policies.py", "bot/context_policy.py",
                   "bot/redaction.py"]


def new_secret() -> str:
    """A random token; hex, so it never starts with "-" and reads as an option on a command line."""
    return secrets.token_hex(32)


def ensure_env_file() -> None:
    """Create .env from .env.example with fresh random secrets; add secrets a newer .env.example asks for."""
    if not ENV_FILE.exists():
        lines = []
        for line in ENV_EXAMPLE.read_text().splitlines():
            if line.endswith("=" + PLACEHOLDER_SECRET):
                line = line[: -len(PLACEHOLDER_SECRET)] + new_secret()
            lines.append(line)
        ENV_FILE.write_text("\n".join(lines) + "\n")
        ENV_FILE.chmod(0o600)
        print(f"Created {ENV_FILE.name} with new random secrets.")
        return
    present = read_env_file()
    missing = [line.partition("=")[0] for line in ENV_EXAMPLE.read_text().splitlines()
               if line.endswith("=" + PLACEHOLDER_SECRET) and line.partition("=")[0] not in present]
    if missing:
        with ENV_FILE.open("a") as env_file:
            env_file.writelines(f"{name}={new_secret()}\n" for name in missing)
        print(f"Added {', '.join(missing)} to {ENV_FILE.name} with new random values.")


def read_env_file() -> Dict[str, str]:
    """The settings in .env, parsed by python-dotenv (quotes, comments, `export`)."""
    return {name: value for name, value in dotenv_values(ENV_FILE).items() if value is not None}


def training_fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in TRAINING_INPUTS:
        path = ROOT / entry
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"avera-{training_fingerprint()}.tar.gz"


def train(force: bool = False) -> Path:
    """Train only when the training data, domain or config changed."""
    target = model_path()
    if target.exists() and not force:
        print(f"Model is up to date: {target.relative_to(ROOT)}")
        return target
    MODELS.mkdir(exist_ok=True)
    print("Training the model (the data or the config changed)...", flush=True)
    subprocess.run(
        [str(BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data", "--out", str(MODELS), "--fixed-model-name", target.name[: -len(".tar.gz")]],
        cwd=ROOT, check=True, env=child_env(),
    )
    for old in MODELS.glob("avera-*.tar.gz"):
        if old != target:
            old.unlink()
    return target


def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    if ENV_FILE.exists():
        for name, value in read_env_file().items():
            env.setdefault(name, value)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


def write_endpoints(path: Path, action_url: str, tracker_db: Path, backend_db: Optional[Path] = None,
                    review_broker: Optional[Dict[str, object]] = None,
                    tracker_store: Optional[Dict[str, object]] = None) -> Path:
    """An endpoints file like endpoints.yml for a stack on other ports/files (tests, benchmarks).

    The action endpoint keeps its credential header (the action server answers nothing without it).
    `review_broker` replaces the broker that feeds the review inbox (the backend's database); without
    `backend_db` or `review_broker` there is no event broker (a second Rasa server beside a stack).
    `tracker_store` adds to or overrides the tracker store's settings (e.g. Rasa's own SQL store).
    """
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    config["action_endpoint"]["url"] = action_url
    config["tracker_store"] = {**config["tracker_store"], "db": str(tracker_db), **(tracker_store or {})}
    if backend_db is None and review_broker is None:
        del config["event_broker"]
    else:
        brokers = config["event_broker"]["brokers"]
        at = next(i for i, broker in enumerate(brokers) if "db" in broker)
        brokers[at] = review_broker or {**brokers[at], "db": str(backend_db)}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass(frozen=True)
class StaffChannel:
    """A channel in credentials.yml that is on only when its settings are set."""
    name: str
    credentials_key: str
    required: Tuple[str, ...]
    webhook: str

    def is_on(self, env: Dict[str, str]) -> bool:
        return all(env.get(setting) for setting in self.required)


STAFF_CHANNELS = [
    StaffChannel("Slack", "bot.channels.slack.StaffSlackInput",
                 ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), "/webhooks/slack/webhook"),
    StaffChannel("Teams", "bot.channels.teams.TeamsInput",
                 ("TEAMS_APP_ID", "TEAMS_APP_PASSWORD"), "/webhooks/teams/webhook"),
]
_ENV_REFERENCE = re.compile(r"^\$\{(\w+)\}$")


def write_credentials(path: Path, env: Dict[str, str]) -> Path:
    """credentials.yml with only the channels that are on, for `rasa run --credentials`.

    Values stay `${VAR}` references that Rasa fills in from its environment,
    so no secret is written to disk; an optional setting that is unset is
    left out, so the channel's default applies.
    """
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
    off = {c.credentials_key for c in STAFF_CHANNELS if not c.is_on(env)}
    effective = {}
    for key, settings in channels.items():
        if key in off:
            continue
        effective[key] = {
            name: value for name, value in (settings or {}).items()
            if not (isinstance(value, str) and (ref := _ENV_REFERENCE.match(value)) and not env.get(ref[1]))
        } or None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(effective, sort_keys=False))
    return path


@dataclass
class Service:
    name: str
    argv: List[str]
    health_url: str
    env: Dict[str, str]
    log_path: Path
    health_headers: Callable[[], Dict[str, str]] = dict
    process: Optional[subprocess.Popen] = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                request = urllib.request.Request(self.health_url, headers=self.health_headers())
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f}s; see {self.log_path}")

    def stop(self, timeout: float = 15) -> None:
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def backend_python() -> Path:
    if not BACKEND_PYTHON.exists():
        raise RuntimeError(f"{BACKEND_PYTHON} is missing: run `make install` (it builds the backend's venv).")
    return BACKEND_PYTHON


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    backend: int = 8080


def rasa_service(model: Path, port: int, endpoints: Path, env: Dict[str, str], log_path: Path,
                 speed_ups: bool = True, credentials: Optional[Path] = None) -> Service:
    """A Rasa server with the project's channels, its HTTP API taking JWTs signed with RASA_TOKEN.

    Through bot/rasa_server.py, which binds to loopback and reads the secret
    from the environment; or, for comparison in bench/, as plain `rasa run`
    on loopback without the HTTP API (a secret would have to go on its
    command line). Its channels: `credentials`, or else the ones that are on
    in `env`, written beside its log.
    """
    credentials = credentials or write_credentials(log_path.with_suffix(".credentials.yml"), env)
    channels = ["--credentials", str(credentials), "--endpoints", str(endpoints),
                "--cors", env.get("BACKEND_PUBLIC_URL", "http://localhost:8080")]
    if not speed_ups:
        return Service("rasa", [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(port),
                                "--interface=127.0.0.1", *channels],
                       f"http://127.0.0.1:{port}/", env, log_path)
    return Service(
        "rasa",
        [str(BIN / "python"), "-m", "bot.rasa_server", "run", "--model", str(model), "--port", str(port),
         "--enable-api", *channels],
        f"http://127.0.0.1:{port}/status", env, log_path, health_headers=lambda: auth_headers(env["RASA_TOKEN"]),
    )


def backend_service(port: int, env: Dict[str, str], log_path: Path, name: str = "backend") -> Service:
    return Service(name, [str(backend_python()), "-m", "bot.backend"],
                   f"http://127.0.0.1:{port}/api/v1/healthz", env, log_path)


def action_service(port: int, env: Dict[str, str], log_path: Path, name: str = "action server") -> Service:
    return Service(name, [str(BIN / "python"), "-m", "actions.server", "--port", str(port)],
                   f"http://127.0.0.1:{port}/health", env, log_path)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class Stack:
    """Backend, action server and Rasa server, started in that order and stopped in reverse."""

    def __init__(self, model: Path, ports: Ports, endpoints: Path, env: Dict[str, str], log_dir: Path,
                 speed_ups: bool = True):
        self.ports = ports
        backend_url = f"http://127.0.0.1:{ports.backend}"
        self.env = env
        self.rasa_url = f"http://127.0.0.1:{ports.rasa}"
        self.backend_url = backend_url
        self.actions_url = f"http://127.0.0.1:{ports.actions}"
        common = {"BACKEND_URL": backend_url, "BACKEND_PORT": str(ports.backend), "RASA_URL": self.rasa_url}
        credentials = write_credentials(log_dir.parent / "credentials.yml", env)
        self.services = [
            backend_service(ports.backend, {**env, **common}, log_dir / "backend.log"),
            action_service(ports.actions, {**env, **common}, log_dir / "actions.log"),
            rasa_service(model, ports.rasa, endpoints, {**env, **common}, log_dir / "rasa.log", speed_ups,
                         credentials),
        ]

    def all_ports(self) -> List[int]:
        return [self.ports.backend, self.ports.actions, self.ports.rasa]

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def start(self) -> None:
        busy = [p for p in self.all_ports() if port_in_use(p)]
        if busy:
            raise RuntimeError(f"Port(s) {busy} already in use: is another help desk still running?")
        try:
            for service in self.services:
                service.start()
                service.wait_healthy(timeout=180)
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def first_exited(self) -> Optional[Service]:
        return next((s for s in self.services if s.process and s.process.poll() is not None), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rabbitmq_settings(queue: str) -> Dict[str, str]:
    """This machine's RabbitMQ (as the scale profile uses it), with a queue of the caller's own."""
    return {"RABBITMQ_HOST": "127.0.0.1", "RABBITMQ_PORT": "5672", "RABBITMQ_USER": "guest",
            "RABBITMQ_PASSWORD": "guest", "RABBITMQ_QUEUE": queue}


def delete_rabbitmq_queue(name: str) -> None:
    """A test stack's queue: left bound to Rasa's exchange, it would fill up for ever."""
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(host="127.0.0.1", login="guest", password="guest")
        async with connection:
            await (await connection.channel()).queue_delete(name)

    asyncio.run(delete())


def rabbitmq_broker() -> Dict[str, object]:
    """Rasa's pika event broker for the review feed, as endpoints.scale.yml configures it (RABBITMQ_*)."""
    brokers = yaml.safe_load((ROOT / "endpoints.scale.yml").read_text())["event_broker"]["brokers"]
    return next(broker for broker in brokers if broker["type"].endswith("PikaEventBroker"))


def isolated_stack(model: Path, work: Path, speed_ups: bool = True, rabbitmq_queue: Optional[str] = None,
                   settings: Optional[Dict[str, str]] = None) -> Stack:
    """A stack of its own for tests and benchmarks: free ports, fresh SQLite files, random tokens.

    Events go to the backend through its database, or through RabbitMQ when a queue is named;
    `settings` overrides environment variables, e.g. a staff channel's pointed at a local fake
    cloud, or a short HANDOFF_UNCLAIMED_SECONDS.
    """
    ports = Ports(rasa=free_port(), actions=free_port(), backend=free_port())
    training_copy = work / "checkout"
    shutil.copytree(ROOT / "data", training_copy / "data")
    shutil.copy(ROOT / "domain.yml", training_copy / "domain.yml")
    env = child_env({
        "BACKEND_TRAINING_DATA_DIR": str(training_copy),
        "BACKEND_EVENT_FEED": "rabbitmq" if rabbitmq_queue else "sql",
        **(rabbitmq_settings(rabbitmq_queue) if rabbitmq_queue else {}),
        "BACKEND_ADMIN_TOKEN": new_secret(),
        "BACKEND_ACTIONS_TOKEN": new_secret(),
        "BACKEND_SECRET_KEY": new_secret(),
        "RASA_TOKEN": new_secret(),
        "ACTION_SERVER_TOKEN": new_secret(),
        "BACKEND_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'backend.db'}",
        "BACKEND_PUBLIC_URL": f"http://127.0.0.1:{ports.backend}",
        "RASA_PUBLIC_URL": f"http://127.0.0.1:{ports.rasa}",
        "SMTP_HOST": "",
        "BACKEND_DEMO_PORTAL": "true",  # the lockout tests sign in through the demo portal
        # Tests and benchmarks pose as many chat users, each from its own (forwarded) address.
        "TRUSTED_PROXIES": "127.0.0.1",
        **(settings or {}),
    })
    endpoints = write_endpoints(work / "endpoints.yml", f"http://127.0.0.1:{ports.actions}/webhook",
                                work / "tracker.db", work / "backend.db",
                                rabbitmq_broker() if rabbitmq_queue else None)
    return Stack(model, ports, endpoints, env, work / "logs", speed_ups)


def cmd_run(args: argparse.Namespace) -> int:
    ensure_env_file()
    env = child_env()
    model = train()
    VAR.mkdir(exist_ok=True)
    ports = Ports()
    print("Starting the backend, the action server and Rasa (logs in var/logs/)...", flush=True)
    stack = Stack(model, ports, ROOT / env.get("RASA_ENDPOINTS", "endpoints.yml"), env, VAR / "logs")
    return serve(stack, (
        "\nThe Avera help desk is running:\n"
        f"  web page with the chat: {env.get('BACKEND_PUBLIC_URL', 'http://localhost:8080')}/\n"
        f"  chat (REST):    curl -s {stack.rasa_url}/webhooks/rest/webhook "
        "-d '{\"sender\":\"me\",\"message\":\"hi\"}'\n"
        f"  chat (socket.io): {stack.rasa_url}/socket.io\n"
        f"  Rasa HTTP API:  {stack.rasa_url} (a JWT signed with RASA_TOKEN in .env: bot/rasa_api.py)\n"
        f"  backend API:    {stack.backend_url}/api/v1 (OpenAPI: {stack.backend_url}/api/v1/openapi.json)\n"
        f"  demo mail sink: {stack.backend_url}/api/v1/outbox?to=ADDRESS (admin token: BACKEND_ADMIN_TOKEN)\n"
        f"  agent console:  {stack.backend_url}/agent (demo agent: demo.agent / DemoAgent-2024!; "
        "add agents with `.venv/bin/python -m bot.cli create-agent USERNAME --display-name NAME`)\n"
        f"  trainers:       {stack.backend_url}/trainer and /trainer/analytics (an account with the trainer role)\n"
        f"{staff_channels_summary(stack)}\n"
        "Press Ctrl-C to stop."))


def serve(stack: Stack, banner: str) -> int:
    """Start `stack`, print `banner`, and run until Ctrl-C or until one of its processes stops."""
    def stop_requested(*_):
        raise KeyboardInterrupt

    # Set both, even SIGINT: a shell that starts `make run` in the background makes it ignore SIGINT.
    signal.signal(signal.SIGINT, stop_requested)
    signal.signal(signal.SIGTERM, stop_requested)
    try:
        stack.start()
        print(banner, flush=True)
        while (exited := stack.first_exited()) is None:
            time.sleep(1)
        print(f"{exited.name} stopped unexpectedly; see {exited.log_path}. Stopping everything.")
        return 1
    except KeyboardInterrupt:
        print("\nStopping...")
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def read_new_password() -> str:
    """From a prompt on a terminal, else the first line of stdin: never from the command line."""
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password for the new agent (12+ characters): ")
        if getpass.getpass("Same password again: ") != password:
            raise ValueError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def cmd_create_agent(args: argparse.Namespace) -> int:
    """Add a help-desk agent account to the backend's database (BACKEND_DATABASE_URL from .env)."""
    import asyncio

    from bot.backend.services.agents import create_agent_in
    from bot.backend.settings import DEFAULT_DATABASE_URL, async_database_url

    env = child_env()
    os.chdir(ROOT)  # the default SQLite path is relative to the project
    try:
        password = read_new_password()
        agent_id = asyncio.run(create_agent_in(
            async_database_url(env.get("BACKEND_DATABASE_URL") or DEFAULT_DATABASE_URL),
            args.username, args.display_name or args.username, password, args.roles.split(","),
        ))
    except ValueError as error:
        print(f"create-agent: {error}", file=sys.stderr)
        return 2
    print(f"Agent {args.username!r} created (id {agent_id}); sign in at "
          f"{env.get('BACKEND_PUBLIC_URL', 'http://localhost:8080')}/agent")
    return 0


def staff_channels_summary(stack: Stack) -> str:
    lines = []
    for channel in STAFF_CHANNELS:
        if channel.is_on(stack.env):
            lines.append(f"  {channel.name} (staff): on, webhook POST {stack.rasa_url}{channel.webhook}")
        else:
            lines.append(f"  {channel.name} (staff): off (set {' and '.join(channel.required)} to turn it on)")
    return "\n".join(lines)


def cmd_check_nlu(args: argparse.Namespace) -> int:
    """Print the held-out intent report and fail when macro F1 is below the bar."""
    report = json.loads(Path(args.report).read_text())
    rows = {k: v for k, v in report.items() if isinstance(v, dict) and "f1-score" in v and k not in
            ("macro avg", "weighted avg", "micro avg")}
    print(f"{'intent':42s} {'precision':>9s} {'recall':>7s} {'f1':>6s} {'n':>4s}")
    for intent, row in sorted(rows.items(), key=lambda item: item[1]["f1-score"]):
        print(f"{intent:42s} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1-score']:6.3f} {row['support']:4d}")
    macro = report["macro avg"]["f1-score"]
    print(f"\nmacro F1 on the held-out NLU test set: {macro:.4f} (required: {args.min_f1})")
    if args.previous and Path(args.previous).exists():
        before = json.loads(Path(args.previous).read_text())
        worse = [f"{intent} {before[intent]['f1-score']:.3f} -> {row['f1-score']:.3f}"
                 for intent, row in sorted(rows.items())
                 if intent in before and row["f1-score"] < before[intent]["f1-score"] - 1e-9]
        print("intents worse than the last run: " + ("; ".join(worse) if worse else "none"))
    return 0 if macro >= args.min_f1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("env", help="create .env with random secrets if missing")
    train_parser = commands.add_parser("train", help="train if the data or config changed; print the model path")
    train_parser.add_argument("--force", action="store_true")
    commands.add_parser("run", help="start the whole help desk")
    check = commands.add_parser("check-nlu", help="check an intent_report.json")
    check.add_argument("report")
    check.add_argument("--min-f1", type=float, default=0.95)
    agent = commands.add_parser("create-agent", help="add a help-desk agent (the password is prompted for)")
    agent.add_argument("username")
    agent.add_argument("--display-name", help="the name members see on replies (default: the username)")
    agent.add_argument("--roles", default="agent", help="comma-separated: agent, trainer (default: agent)")
    check.add_argument("--previous", help="an earlier intent_report.json: name the intents that got worse")
    commands.add_parser("check", help="is a change to the bot safe? (make check)")
    review_cli.add_commands(commands)
    args = parser.parse_args()
    if args.command == "create-agent":
        return cmd_create_agent(args)
    if args.command == "env":
        ensure_env_file()
        return 0
    if args.command == "train":
        ensure_env_file()
        print(train(force=args.force))
        return 0
    if args.command == "run":
        return cmd_run(args)
    if args.command == "check":
        ensure_env_file()
        return safety_check.run(child_env(), lambda: str(model_path()))
    if args.command == "review":
        return review_cli.review(args, child_env())
    if args.command == "report":
        return review_cli.report(args, child_env())
    return cmd_check_nlu(args)


if __name__ == "__main__":
    sys.exit(main())
