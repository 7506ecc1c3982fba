"""A help-desk agent working through the console's API, for tests on any stack (website, Slack, Teams)."""
import time
from typing import Callable, Dict

import requests

# The demo agent from bot/backend/demo_data.yml.
DEMO_AGENT = {"username": "demo.agent", "password": "DemoAgent-2024!"}
WAIT_SECONDS = 60


class Agent:
    """A signed-in agent, through the console's API (cookie session + CSRF header)."""

    def __init__(self, stack):
        self.api = stack.backend_url + "/api/v1"
        self.http = requests.Session()
        reply = self.http.post(self.api + "/agent/sign-in", json=DEMO_AGENT, timeout=30)
        assert reply.status_code == 200, reply.text
        self.http.headers["X-CSRF-Token"] = reply.json()["csrf_token"]

    def detail(self, escalation_id: int) -> Dict:
        reply = self.http.get(self.api + f"/escalations/{escalation_id}", timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def find(self, reference: str) -> Dict:
        for status in ("queued", "claimed", "resolved"):
            for row in self.http.get(self.api + f"/escalations?status={status}", timeout=30).json()["escalations"]:
                if row["reference"] == reference:
                    return self.detail(row["id"])
        raise AssertionError(f"{reference} is not in the queue")

    def post(self, escalation_id: int, action: str, body=None) -> requests.Response:
        return self.http.post(self.api + f"/escalations/{escalation_id}/{action}", json=body or {}, timeout=30)

    def member_messages(self, escalation_id: int):
        return [m["text"] for m in self.detail(escalation_id)["messages"] if m["sender"] == "user"]


def wait_for(check: Callable[[], object], what: str):
    """Poll until `check` gives something truthy: delivery is asynchronous (relay, SSE, timers)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")
