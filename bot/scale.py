"""The scale profile on one machine: `python -m bot.scale run` (`make run-scale`).

PostgreSQL holds the conversations (bot/tracker_store.py) and the backend's
data; Redis holds the per-conversation locks (bot/lock_store.py); several Rasa
replicas and action servers run behind nginx, which spreads chat turns over
the replicas (socket.io sticks to one per client) and Rasa's action calls over
the action servers. Everything listens on loopback. The same pieces on
several machines: docs/OPERATIONS.md. bench/ and the tests start it through
`scale_stack`, as `make run-scale` does.
"""
import argparse
import json
import os
import shutil
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import psycopg2

from bot.cli import (ROOT, VAR, Ports, Service, Stack, action_service, backend_service, child_env, delete_rabbitmq_queue,
                     ensure_env_file, rabbitmq_settings,
                     free_port, new_secret, rasa_service, serve, train)
from bot.unavailable import slow_text, unavailable_text

NGINX = "/usr/sbin/nginx"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
POSTGRES_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
DATABASE = "avera_scale"  # make run-scale's own database (created when missing)
REDIS_DB = "5"  # make run-scale's own Redis database
LOCK_LIFETIME_SECONDS = "10"  # how long a conversation's lock ticket lives (docs/OPERATIONS.md)


@dataclass
class ScalePorts:
    public: int = 5005  # nginx: chat channels and Rasa's HTTP API, as `make run`'s Rasa port
    actions: int = 5055  # nginx: Rasa's calls to the action servers
    backend: int = 8080
    rasa: List[int] = field(default_factory=lambda: [5011, 5012])
    action_servers: List[int] = field(default_factory=lambda: [5061, 5062])

    @classmethod
    def free(cls, replicas: int = 2, action_servers: int = 2) -> "ScalePorts":
        return cls(free_port(), free_port(), free_port(), [free_port() for _ in range(replicas)],
                   [free_port() for _ in range(action_servers)])


def ensure_database(name: str) -> None:
    """Create PostgreSQL database `name` if it does not exist (the machine's server, trust auth)."""
    connection = psycopg2.connect(**POSTGRES_ADMIN, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def forget(stack: "ScaleStack") -> None:
    """What a test or benchmark stack leaves behind: its database and its RabbitMQ queue."""
    drop_database(stack.database)
    delete_rabbitmq_queue(stack.env["RABBITMQ_QUEUE"])


def drop_database(name: str) -> None:
    connection = psycopg2.connect(**POSTGRES_ADMIN, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def nginx_reply(text: str) -> str:
    """A REST channel reply with `text`, quoted for nginx's `return`."""
    return json.dumps([{"recipient_id": "", "text": text}]).replace("'", "\\'")


def nginx_config(work: Path, ports: ScalePorts, bind: str = "127.0.0.1", turn_timeout_s: int = 60) -> Path:
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / temp).mkdir(parents=True, exist_ok=True)
    text = string.Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        work=str(work), bind=bind, public_port=ports.public, actions_port=ports.actions,
        rasa_servers=" ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports.rasa),
        action_servers=" ".join(f"server 127.0.0.1:{port};" for port in ports.action_servers),
        unavailable_reply=nginx_reply(unavailable_text()), slow_reply=nginx_reply(slow_text()),
        turn_timeout=turn_timeout_s)
    path = work / "nginx.conf"
    path.write_text(text)
    return path


def nginx_service(work: Path, ports: ScalePorts, log_path: Path, turn_timeout_s: int) -> Service:
    if not os.access(NGINX, os.X_OK):
        raise RuntimeError(f"nginx is needed at {NGINX}: `sudo apt-get install nginx-light` (make run-scale does).")
    config = nginx_config(work, ports, turn_timeout_s=turn_timeout_s)
    user = ["-g", "daemon off; user root;"] if os.geteuid() == 0 else ["-g", "daemon off;"]
    return Service("nginx", [NGINX, "-p", str(work), "-c", str(config), *user],
                   f"http://127.0.0.1:{ports.public}/nginx-health", dict(os.environ), log_path)


class ScaleStack(Stack):
    """Backend, action servers, nginx and Rasa replicas, started in that order and stopped in reverse."""

    def __init__(self, model: Path, ports: ScalePorts, env: Dict[str, str], work: Path, database: str,
                 redis_db: str = REDIS_DB, turn_timeout_s: int = 60):
        self.scale_ports = ports
        self.ports = Ports(rasa=ports.public, actions=ports.actions, backend=ports.backend)  # what clients use
        self.env = {**env,
                    "BACKEND_URL": f"http://127.0.0.1:{ports.backend}", "BACKEND_PORT": str(ports.backend),
                    "BACKEND_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
                    "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ports.actions}/webhook",
                    "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": database,
                    "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": "",
                    "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": redis_db,
                    # A replica that dies mid-turn leaves its lock ticket behind: the member's next message
                    # waits until it expires (Rasa's default: 60 s). A turn holds the lock for a second or two.
                    "TICKET_LOCK_LIFETIME": env.get("TICKET_LOCK_LIFETIME") or LOCK_LIFETIME_SECONDS,
                    # the review inbox's events through RabbitMQ: the .env's settings, else this machine's
                    "BACKEND_EVENT_FEED": "rabbitmq",
                    **rabbitmq_settings(env.get("RABBITMQ_QUEUE") or f"avera_events_{database}"),
                    **{name: value for name, value in env.items() if name.startswith("RABBITMQ_") and value}}
        self.database = database
        self.rasa_url = f"http://127.0.0.1:{ports.public}"
        self.backend_url = f"http://127.0.0.1:{ports.backend}"
        self.actions_url = f"http://127.0.0.1:{ports.actions}"
        logs = work / "logs"
        self.replicas = [rasa_service(model, port, ROOT / "endpoints.scale.yml", self.env, logs / f"rasa-{i}.log")
                         for i, port in enumerate(ports.rasa, start=1)]
        for i, replica in enumerate(self.replicas, start=1):
            replica.name = f"rasa {i}"
        self.action_servers = [action_service(port, self.env, logs / f"actions-{i}.log", f"action server {i}")
                               for i, port in enumerate(ports.action_servers, start=1)]
        self.backend = backend_service(ports.backend, self.env, logs / "backend.log")
        self.nginx = nginx_service(work, ports, logs / "nginx.log", turn_timeout_s)
        self.services = [self.backend, *self.action_servers, self.nginx, *self.replicas]

    def all_ports(self) -> List[int]:
        p = self.scale_ports
        return [p.public, p.actions, p.backend, *p.rasa, *p.action_servers]

    def start(self) -> None:
        ensure_database(self.database)
        super().start()


def scale_stack(model: Path, work: Path, replicas: int = 2, action_servers: int = 2,
                turn_timeout_s: int = 60) -> ScaleStack:
    """A scale profile of its own for tests and benchmarks: free ports, a new database, random tokens.

    `turn_timeout_s`: how long nginx waits for a replica's answer to a chat turn.

    The caller drops the database afterwards (`drop_database(stack.database)`).
    """
    env = child_env({
        "BACKEND_ADMIN_TOKEN": new_secret(), "BACKEND_ACTIONS_TOKEN": new_secret(),
        "BACKEND_SECRET_KEY": new_secret(), "RASA_TOKEN": new_secret(), "ACTION_SERVER_TOKEN": new_secret(),
        "SMTP_HOST": "",
        # nginx in front says which client it forwards (X-Forwarded-For); tests pose as many clients.
        "TRUSTED_PROXIES": "127.0.0.1",
    })
    ports = ScalePorts.free(replicas, action_servers)
    env["BACKEND_PUBLIC_URL"] = f"http://127.0.0.1:{ports.backend}"
    return ScaleStack(model, ports, env, work, f"avera_scale_{new_secret()[:8]}", turn_timeout_s=turn_timeout_s)


def cmd_run(args: argparse.Namespace) -> int:
    ensure_env_file()
    model = train()
    work = VAR / "scale"
    shutil.rmtree(work / "proxy", ignore_errors=True)
    ports = ScalePorts(rasa=[5011 + i for i in range(args.replicas)])
    stack = ScaleStack(model, ports, child_env(), work, args.database)
    print(f"Starting the scale profile: backend and tracker store in PostgreSQL database {args.database!r}, "
          f"locks in Redis db {REDIS_DB}, {args.replicas} Rasa replicas, 2 action servers, nginx "
          f"(logs in {work.relative_to(ROOT)}/logs/)...", flush=True)
    return serve(stack, (
        "\nThe Avera help desk (scale profile) is running, through nginx:\n"
        f"  chat (REST):      curl -s {stack.rasa_url}/webhooks/rest/webhook "
        "-d '{\"sender\":\"me\",\"message\":\"hi\"}'\n"
        f"  chat (socket.io): {stack.rasa_url}/socket.io (sticky per client)\n"
        f"  Rasa replicas:    {', '.join(str(p) for p in ports.rasa)}; action servers behind {stack.actions_url}\n"
        f"  backend API:      {stack.backend_url}/api/v1\n"
        "Press Ctrl-C to stop."))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the scale profile on loopback")
    run.add_argument("--replicas", type=int, default=2, help="Rasa replicas (default 2)")
    run.add_argument("--database", default=DATABASE, help=f"PostgreSQL database (default {DATABASE})")
    args = parser.parse_args()
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
