"""Set up, train and run the whole help desk: `python -m bot.cli run|train|env|check-nlu`.

`make run` and `make test` call this module, and the end-to-end tests and
benchmarks start the same stack through `Stack`, so what a new user runs is
what the tests run.
"""
import argparse
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODELS = ROOT / "models"
VAR = ROOT / "var"
ENV_FILE = ROOT / ".env"
ENV_EXAMPLE = ROOT / ".env.example"
PLACEHOLDER_SECRET = "change-me"
# What a trained model depends on; any change here means training again.
TRAINING_INPUTS = ["config.yml", "domain.yml", "data", "bot/nlu", "bot/redaction.py"]


def new_secret() -> str:
    """A random token; hex, so it never starts with "-" and reads as an option on a command line."""
    return secrets.token_hex(32)


def ensure_env_file() -> None:
    """Create .env from .env.example with fresh random secrets when there is none."""
    if not ENV_FILE.exists():
        lines = []
        for line in ENV_EXAMPLE.read_text().splitlines():
            if line.endswith("=" + PLACEHOLDER_SECRET):
                line = line[: -len(PLACEHOLDER_SECRET)] + new_secret()
            lines.append(line)
        ENV_FILE.write_text("\n".join(lines) + "\n")
        ENV_FILE.chmod(0o600)
        print(f"Created {ENV_FILE.name} with new random secrets.")


def read_env_file() -> Dict[str, str]:
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


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


def write_endpoints(path: Path, action_url: str, tracker_db: Path) -> Path:
    """An endpoints file like endpoints.yml for a stack on other ports/files (tests, benchmarks)."""
    text = (ROOT / "endpoints.yml").read_text()
    text = text.replace("http://127.0.0.1:5055/webhook", action_url)
    text = text.replace('"var/tracker.db"', json.dumps(str(tracker_db)))
    path.write_text(text)
    return path


@dataclass
class Service:
    name: str
    argv: List[str]
    health_url: str
    env: Dict[str, str]
    log_path: Path
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
                with urllib.request.urlopen(self.health_url, timeout=2) as response:
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


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    backend: int = 8080


def rasa_service(model: Path, port: int, endpoints: Path, env: Dict[str, str], log_path: Path,
                 speed_ups: bool = True) -> Service:
    """A Rasa server with the project's channels, its HTTP API behind RASA_TOKEN.

    With bot/rasa_server.py's speed-ups, or as plain `rasa run` (for comparison in bench/).
    """
    launcher = [str(BIN / "python"), "-m", "bot.rasa_server"] if speed_ups else [str(BIN / "rasa")]
    return Service(
        "rasa",
        [*launcher, "run", "--model", str(model), "--port", str(port),
         "--enable-api", f"--auth-token={env['RASA_TOKEN']}",  # one word: a token may start with "-"
         "--credentials", "credentials.yml", "--endpoints", str(endpoints),
         "--cors", env.get("BACKEND_PUBLIC_URL", "http://localhost:8080")],
        f"http://127.0.0.1:{port}/status?token={env['RASA_TOKEN']}", env, log_path,
    )


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
        self.services = [
            Service("backend", [str(BIN / "python"), "-m", "bot.backend"],
                    f"{backend_url}/api/v1/healthz", {**env, **common}, log_dir / "backend.log"),
            Service("action server", [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                                      "--port", str(ports.actions)],
                    f"http://127.0.0.1:{ports.actions}/health", {**env, **common}, log_dir / "actions.log"),
            rasa_service(model, ports.rasa, endpoints, {**env, **common}, log_dir / "rasa.log", speed_ups),
        ]

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def start(self) -> None:
        busy = [p for p in (self.ports.backend, self.ports.actions, self.ports.rasa) if port_in_use(p)]
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


def isolated_stack(model: Path, work: Path, speed_ups: bool = True,
                   settings: Optional[Dict[str, str]] = None) -> Stack:
    """A stack of its own for tests and benchmarks: free ports, fresh SQLite files, random tokens.

    `settings` overrides environment variables, e.g. a short HANDOFF_UNCLAIMED_SECONDS.
    """
    ports = Ports(rasa=free_port(), actions=free_port(), backend=free_port())
    env = child_env({
        "BACKEND_ADMIN_TOKEN": new_secret(),
        "BACKEND_ACTIONS_TOKEN": new_secret(),
        "BACKEND_SECRET_KEY": new_secret(),
        "RASA_TOKEN": new_secret(),
        "BACKEND_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'backend.db'}",
        "BACKEND_PUBLIC_URL": f"http://127.0.0.1:{ports.backend}",
        "RASA_PUBLIC_URL": f"http://127.0.0.1:{ports.rasa}",
        "SMTP_HOST": "",
        **(settings or {}),
    })
    endpoints = write_endpoints(work / "endpoints.yml", f"http://127.0.0.1:{ports.actions}/webhook",
                                work / "tracker.db")
    return Stack(model, ports, endpoints, env, work / "logs", speed_ups)


def cmd_run(args: argparse.Namespace) -> int:
    ensure_env_file()
    env = child_env()
    model = train()
    VAR.mkdir(exist_ok=True)
    ports = Ports()
    print("Starting the backend, the action server and Rasa (logs in var/logs/)...", flush=True)
    stack = Stack(model, ports, ROOT / env.get("RASA_ENDPOINTS", "endpoints.yml"), env, VAR / "logs")

    def stop_requested(*_):
        raise KeyboardInterrupt

    # Set both, even SIGINT: a shell that starts `make run` in the background makes it ignore SIGINT.
    signal.signal(signal.SIGINT, stop_requested)
    signal.signal(signal.SIGTERM, stop_requested)
    try:
        stack.start()
        print(
            "\nThe Avera help desk is running:\n"
            f"  web page with the chat: {env.get('BACKEND_PUBLIC_URL', 'http://localhost:8080')}/\n"
            f"  chat (REST):    curl -s {stack.rasa_url}/webhooks/rest/webhook "
            "-d '{\"sender\":\"me\",\"message\":\"hi\"}'\n"
            f"  chat (socket.io): {stack.rasa_url}/socket.io\n"
            f"  Rasa HTTP API:  {stack.rasa_url} (token: RASA_TOKEN in .env)\n"
            f"  backend API:    {stack.backend_url}/api/v1 (OpenAPI: {stack.backend_url}/api/v1/openapi.json)\n"
            f"  demo mail sink: {stack.backend_url}/api/v1/outbox?to=ADDRESS (admin token: BACKEND_ADMIN_TOKEN)\n"
            f"  agent console:  {stack.backend_url}/agent (demo agent: demo.agent / DemoAgent-2024!; "
            "add agents with `.venv/bin/python -m bot.cli create-agent USERNAME --display-name NAME`)\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
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
    return cmd_check_nlu(args)


if __name__ == "__main__":
    sys.exit(main())
