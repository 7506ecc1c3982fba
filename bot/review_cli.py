"""The review inbox and the analytics in a terminal: `python -m bot.cli review|report`.

Both read the running backend's API (BACKEND_URL) with the admin token from
.env, so they show exactly what the web pages show.
"""
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional

WIDTH = 70


class BackendApi:
    def __init__(self, env: Mapping[str, str]):
        self.base = env.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/") + "/api/v1"
        self.token = env["BACKEND_ADMIN_TOKEN"]

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            message = json.loads(error.read() or b"{}").get("error", {}).get("message", error.reason)
            raise SystemExit(f"The backend refused: {message}") from None
        except OSError as error:
            raise SystemExit(f"Cannot reach the backend at {self.base} ({error}); is `make run` running?") from None


def dates(args) -> str:
    query = {name: value for name, value in (("from", args.start), ("to", args.end)) if value}
    return "?" + urllib.parse.urlencode(query) if query else ""


def short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def review(args, env: Mapping[str, str]) -> int:
    api = BackendApi(env)
    if args.action == "show":
        found = api.call("GET", f"/review/items/{args.item}")
        for turn in found["conversation"]:
            mark = ">>" if turn["id"] == found["item"]["id"] else "  "
            print(f"{mark} user: {turn['text']}\n   bot:  {short(turn['reply'] or '')}")
        return 0
    if args.action in ("add", "out-of-scope"):
        intent = args.intent if args.action == "add" else "out_of_scope"
        if not intent:
            raise SystemExit("Name the intent: python -m bot.cli review add ITEM INTENT")
        done = api.call("POST", f"/review/items/{args.item}/example", {"intent": intent})
        print(f"Added to {done['file']} as {done['intent']}. Review with `git diff`, then run `make check`.")
        return 0
    groups = api.call("GET", "/review" + dates(args))["groups"]
    if not groups:
        print("Nothing to review: every message in the period was understood.")
    for group in groups:
        first = group["items"][0]
        print(f"{group['count']:>3}x  {short(group['text'])}")
        print(f"      reasons: {', '.join(first['reasons'])}; guessed {first['intent']} ({first['confidence']}); "
              f"suggested: {group['suggested_intent'] or '-'}; channels: {', '.join(group['channels'])}")
        print(f"      items: {' '.join(str(item['id']) for item in group['items'])}")
    return 0


def report(args, env: Mapping[str, str]) -> int:
    figures = BackendApi(env).call("GET", "/analytics" + dates(args))

    def percent(value: Optional[float]) -> str:
        return "-" if value is None else f"{value * 100:.1f} %"

    print(f"From {figures['from']} to {figures['to']}: {figures['conversations']} conversations, "
          f"{figures['user_messages']} user messages")
    print(f"  containment {percent(figures['containment_rate'])}, fallback {percent(figures['fallback_rate'])}, "
          f"hand-off {percent(figures['handoff_rate'])}, median turns to resolution "
          f"{figures['median_turns_to_resolution'] if figures['median_turns_to_resolution'] is not None else '-'}")
    print("  per channel: " + ", ".join(f"{k} {v}" for k, v in figures["per_channel"].items()))
    for day in figures["per_day"]:
        print(f"  {day['day']}: {day['total']}")
    for title, key, name in (("top intents", "top_intents", "intent"), ("failing topics", "failing_topics", "topic"),
                             ("hand-off reasons", "handoff_reasons", "reason")):
        print(f"  {title}: " + (", ".join(f"{row[name]} {row['count']}" for row in figures[key]) or "-"))
    for form in figures["forms"]:
        print(f"  {form['form']}: {form['completed']} completed, {form['abandoned']} abandoned, "
              f"{form['in_progress']} in progress")
    return 0


def add_commands(commands) -> None:
    inbox = commands.add_parser("review", help="the trainers' review inbox (needs `make run`)")
    inbox.add_argument("action", nargs="?", choices=["list", "show", "add", "out-of-scope"], default="list")
    inbox.add_argument("item", nargs="?", type=int)
    inbox.add_argument("intent", nargs="?")
    analytics = commands.add_parser("report", help="how the bot is doing (needs `make run`)")
    for parser in (inbox, analytics):
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: 30 days ago)")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: today)")
