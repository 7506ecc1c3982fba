"""The review inbox and analytics, fed through the backend's event feed from a broker table.

Rasa's SQL event broker writes rows into an `events` table of the backend's
database; these tests write the same rows (the JSON Rasa publishes) and read
what the inbox, the analytics and the training-data files show.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import aiohttp
import pytest

from bot.cli import ROOT

pytestmark = pytest.mark.asyncio

EVENTS_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)",
    "postgresql": "CREATE TABLE IF NOT EXISTS events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255), data TEXT)",
}


class Conversation:
    """Builds the events Rasa publishes for one conversation."""

    def __init__(self, channel: str = "socketio"):
        self.sender = f"conv-{uuid.uuid4().hex[:8]}"
        self.channel = channel
        self.clock = time.time() - 60
        self.events = []

    def _add(self, **event):
        self.clock += 0.5
        self.events.append({"sender_id": self.sender, "timestamp": self.clock, **event})
        return self

    def user(self, text: str, intent: str, confidence: float = 0.95, real: str = None):
        ranking = [{"name": real, "confidence": 0.2}] if real else []
        return self._add(event="user", text=text, input_channel=self.channel, message_id=uuid.uuid4().hex,
                         parse_data={"text": text, "intent": {"name": intent, "confidence": confidence},
                                     "intent_ranking": [{"name": intent, "confidence": confidence}] + ranking})

    def action(self, name: str):
        return self._add(event="action", name=name)

    def bot(self, text: str):
        return self._add(event="bot", text=text)

    def loop(self, name):
        return self._add(event="active_loop", name=name)


@pytest.fixture(params=["sqlite", "postgresql"])
def feed(request, tmp_path, start_backend, api_for, db_for):
    """A backend following an events table, with a copy of the training data to write into."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "data", checkout / "data")
    shutil.copy(ROOT / "domain.yml", checkout / "domain.yml")
    url = None if request.param == "sqlite" else request.getfixturevalue("own_postgres_url")
    server = start_backend(url, BACKEND_EVENT_FEED="sql", BACKEND_EVENT_FEED_POLL_SECONDS="0.05",
                           BACKEND_TRAINING_DATA_DIR=str(checkout))
    return Feed(server, api_for(server), db_for(server), request.param, checkout)


class Feed:
    def __init__(self, server, api, db, dialect, checkout):
        self.server, self.api, self.db, self.dialect, self.checkout = server, api, db, dialect, checkout

    async def publish(self, *conversations: Conversation) -> None:
        await self.db.execute(EVENTS_TABLE[self.dialect])
        for conversation in conversations:
            for event in conversation.events:
                await self.db.execute("INSERT INTO events (sender_id, data) VALUES (:s, :d)",
                                      s=event["sender_id"], d=json.dumps(event))

    async def applied(self) -> None:
        """Wait until the feed has applied every row written so far."""
        last = await self.db.scalar("SELECT max(id) FROM events")
        for _ in range(200):
            done = await self.db.scalar("SELECT last_event_id FROM event_feed_position WHERE id = 1")
            if done is not None and done >= last:
                return
            time.sleep(0.05)
        raise AssertionError(f"the feed did not apply events up to {last}:\n{self.server.log()}")

    async def inbox(self):
        reply = await self.api.get("/review")
        assert reply.status == 200, reply.body
        return reply.body["groups"]


def texts(groups):
    return [sorted(item["text"] for item in group["items"]) for group in groups]


async def test_the_inbox_lists_exactly_the_misunderstood_messages_grouped_by_wording(feed):
    understood = Conversation().user("how do I sign up for mychart", "mychart_signup").action("utter_mychart_signup") \
        .bot("With a MyChart access code...").user("thanks", "thank")
    fell_back = Conversation().user("can mychart show my dog's shots", "nlu_fallback", 0.3, real="portal_test_results") \
        .action("utter_ask_rephrase").bot("Sorry, I didn't quite understand.") \
        .user("does mychart have my test results", "portal_test_results")
    same_wording = Conversation("slack").user("can mychart show my dogs shots please", "nlu_fallback", 0.3,
                                              real="portal_test_results").action("utter_ask_rephrase")
    uncertain = Conversation().user("is the learning thing free", "learning_center_about", 0.31)
    complained = Conversation().user("what about my bill", "health_plans_about", 0.9) \
        .user("that's not what I asked", "frustration", 0.9)
    handed_off = Conversation().user("my records are wrong", "portal_test_results", 0.8) \
        .user("let me talk to a person", "request_human").action("action_offer_handoff")
    await feed.publish(understood, fell_back, same_wording, uncertain, complained, handed_off)
    await feed.applied()

    groups = await feed.inbox()
    assert sorted(texts(groups)) == sorted([
        ["can mychart show my dog's shots", "can mychart show my dogs shots please"],
        ["is the learning thing free"], ["what about my bill"], ["my records are wrong"],
    ])
    dogs = next(g for g in groups if g["count"] == 2)
    assert dogs["suggested_intent"] == "portal_test_results"  # what the user said next, rephrasing
    assert dogs["channels"] == ["slack", "socketio"]
    reasons = {g["items"][0]["text"]: g["items"][0]["reasons"] for g in groups}
    assert reasons["is the learning thing free"] == ["low_confidence"]
    assert reasons["what about my bill"] == ["complaint_followed"]
    assert reasons["my records are wrong"] == ["handoff_followed"]
    assert all("fallback" in item["reasons"] for item in dogs["items"])


@pytest.fixture
async def rabbitmq_feed(tmp_path, start_backend, api_for):
    """A backend consuming a RabbitMQ queue of its own (the scale profile's feed), and a publisher to it."""
    import aio_pika

    queue = f"avera_test_{uuid.uuid4().hex[:8]}"
    try:
        connection = await aio_pika.connect(host="127.0.0.1", port=5672, login="guest", password="guest")
    except (OSError, aio_pika.exceptions.AMQPConnectionError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"RabbitMQ is needed on 127.0.0.1:5672 ({error}); CI must test the scale profile's feed")
        pytest.skip(f"RabbitMQ is not running: {error}")
    channel = await connection.channel()
    await channel.declare_queue(queue, durable=True)
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "data", checkout / "data")
    shutil.copy(ROOT / "domain.yml", checkout / "domain.yml")
    server = start_backend(None, BACKEND_EVENT_FEED="rabbitmq", BACKEND_TRAINING_DATA_DIR=str(checkout),
                           RABBITMQ_HOST="127.0.0.1", RABBITMQ_PORT="5672", RABBITMQ_USER="guest",
                           RABBITMQ_PASSWORD="guest", RABBITMQ_QUEUE=queue)

    async def publish(body: bytes) -> None:
        await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)

    yield api_for(server), publish
    await channel.queue_delete(queue)
    await connection.close()


async def test_the_rabbitmq_feed_applies_a_turn_sent_as_one_message_and_single_events(rabbitmq_feed):
    api, publish = rabbitmq_feed
    as_one_message = Conversation().user("zxqv blorp flarn", "nlu_fallback", 0.2, real="greet") \
        .action("utter_ask_rephrase").bot("Sorry, I didn't quite understand.")
    one_by_one = Conversation().user("quuxle wibble", "nlu_fallback", 0.2, real="greet").action("utter_ask_rephrase")
    await publish(json.dumps(as_one_message.events).encode())  # the scale profile's broker: a turn a message
    await publish(b"not json")  # skipped, and the feed goes on
    for event in one_by_one.events:  # Rasa's own pika broker: an event a message
        await publish(json.dumps(event).encode())

    for _ in range(200):
        groups = (await api.get("/review")).body["groups"]
        if len(groups) == 2:
            break
        time.sleep(0.05)
    assert sorted(texts(groups)) == [["quuxle wibble"], ["zxqv blorp flarn"]]


async def test_answers_inside_identity_forms_are_never_kept_and_cannot_become_examples(feed):
    conversation = Conversation().user("I need a new access code", "request_access_code") \
        .action("access_code_reissue_form").loop("access_code_reissue_form").bot("What is your first and last name?") \
        .user("Dana Quillfeather", "nlu_fallback", 0.2, real="greet").bot("What is your date of birth, Dana Quillfeather?")
    await feed.publish(conversation)
    await feed.applied()

    # Not even the broker's table keeps it: applied events are removed from it.
    assert await feed.db.tables_containing("Quillfeather") == []
    masked_id = await feed.db.scalar("SELECT id FROM review_turns WHERE masked = :t", t=True)
    assert all(item["id"] != masked_id for group in await feed.inbox() for item in group["items"])
    for reply in (await feed.api.get(f"/review/items/{masked_id}"),
                  await feed.api.post(f"/review/items/{masked_id}/example", {"intent": "greet"})):
        assert reply.status == 409, reply.body


async def test_an_id_no_review_item_can_have_is_not_found_not_a_server_error(feed):
    for bad_id in ("abc", "0", "-1", "\u0663", "309123157658175344281124864"):  # last: beyond a 64-bit key
        for reply in (await feed.api.get(f"/review/items/{bad_id}"),
                      await feed.api.post(f"/review/items/{bad_id}/example", {"intent": "greet"})):
            assert reply.status == 404 and reply.body["error"]["code"] == "not_found", bad_id


async def test_a_redelivered_event_and_a_restart_count_nothing_twice(feed):
    first = Conversation().user("zxqv blorp", "nlu_fallback", 0.2, real="greet").action("utter_ask_rephrase")
    await feed.publish(first)
    redelivered = Conversation()
    redelivered.sender, redelivered.events = first.sender, first.events[-1:]  # the same action event again
    await feed.publish(redelivered)
    await feed.applied()
    feed.server.stop()
    second = Conversation().user("quuxle wibble", "nlu_fallback", 0.2, real="greet").action("utter_ask_rephrase")
    await feed.publish(second)
    feed.server.start()
    await feed.applied()

    figures = (await feed.api.get("/analytics")).body
    assert (figures["conversations"], figures["user_messages"], figures["fallback_rate"]) == (2, 2, 1.0)
    assert sorted(texts(await feed.inbox())) == [["quuxle wibble"], ["zxqv blorp"]]


async def test_one_step_turns_a_message_into_an_example_in_its_topic_file(feed):
    asked = Conversation().user("how do i get into the ce thing with my avera login", "nlu_fallback", 0.25,
                                real="ce_portal_sign_in").action("utter_ask_rephrase")
    again = Conversation().user("How do I get into the CE thing with my Avera login?", "nlu_fallback", 0.25,
                                real="ce_portal_sign_in").action("utter_ask_rephrase")
    silly = Conversation().user("sing me a song about ducks", "nlu_fallback", 0.2, real="greet") \
        .action("utter_ask_rephrase")
    await feed.publish(asked, again, silly)
    await feed.applied()
    groups = await feed.inbox()
    item = next(g for g in groups if g["count"] == 2)["items"][0]
    topic_file = feed.checkout / "data" / "nlu" / "ce_portal.yml"
    before = topic_file.read_text().splitlines()

    for wrong, status in (({"intent": "no_such_intent"}, 422), ({}, 422)):
        assert (await feed.api.post(f"/review/items/{item['id']}/example", wrong)).status == status
    done = await feed.api.post(f"/review/items/{item['id']}/example", {"intent": "ce_portal_sign_in"})
    assert done.status == 200, done.body
    assert done.body["file"] == "data/nlu/ce_portal.yml"
    after = topic_file.read_text().splitlines()
    assert len(after) == len(before) + 1
    added = next(i for i, line in enumerate(after) if line not in before)
    assert after[added].strip() == f"- {item['text']}"
    block_start = after.index("- intent: ce_portal_sign_in")
    next_block = next(i for i in range(block_start + 1, len(after)) if after[i].startswith("- intent:"))
    assert block_start < added < next_block

    # One step reviewed both wordings; the message written again later is refused, not added twice.
    assert [g["items"][0]["text"] for g in await feed.inbox()] == ["sing me a song about ducks"]
    assert (await feed.api.post(f"/review/items/{item['id']}/example", {"intent": "ce_portal_sign_in"})).status == 409
    await feed.publish(Conversation().user(item["text"], "nlu_fallback", 0.25, real="ce_portal_sign_in"))
    await feed.applied()
    later = next(g for g in await feed.inbox() if g["text"] == item["text"])["items"][0]
    refused = await feed.api.post(f"/review/items/{later['id']}/example", {"intent": "ce_portal_sign_in"})
    assert refused.status == 422 and "already" in refused.body["error"]["message"]
    assert topic_file.read_text().splitlines() == after

    out = next(g for g in await feed.inbox() if g["text"] == "sing me a song about ducks")["items"][0]
    marked = await feed.api.post(f"/review/items/{out['id']}/example", {"intent": "out_of_scope"})
    assert marked.body["status"] == "out_of_scope"
    assert "- sing me a song about ducks" in (feed.checkout / "data" / "nlu" / "general.yml").read_text()


async def test_analytics_count_containment_hand_offs_and_forms(feed):
    completed = Conversation().user("new access code please", "request_access_code") \
        .action("access_code_reissue_form").loop("access_code_reissue_form").user("Ann Example", "greet") \
        .loop(None).action("action_reissue_access_code").bot("If the details match, a new code is on its way.")
    cancelled = Conversation("slack").user("reset my password", "request_password_reset") \
        .action("password_reset_form").loop("password_reset_form").user("never mind", "stop") \
        .bot("Okay, I won't send anything.").loop(None).action("action_send_password_reset").action("action_listen")
    handed_off = Conversation().user("this is useless", "frustration").action("action_offer_handoff")
    await feed.publish(completed, cancelled, handed_off)
    await feed.applied()

    figures = (await feed.api.get("/analytics")).body
    assert figures["conversations"] == 3
    assert figures["per_channel"] == {"slack": 1, "socketio": 2}
    assert figures["handoff_rate"] == round(1 / 3, 4)
    assert figures["containment_rate"] == round(2 / 3, 4)
    assert {f["form"]: (f["completed"], f["abandoned"]) for f in figures["forms"]} == {
        "access_code_reissue_form": (1, 0), "password_reset_form": (0, 1)}
    assert figures["median_turns_to_resolution"] == 2
    assert (await feed.api.get("/analytics?from=2001-01-01&to=2001-01-31")).body["conversations"] == 0
    assert (await feed.api.get("/analytics?from=yesterday")).status == 422


DEMO_TRAINER = ("demo.agent", "DemoAgent-2024!")  # bot/backend/demo_data.yml: roles agent and trainer
AGENT_PASSWORD = "Plain-Agent-Password-7"


def create_plain_agent(server) -> str:
    """An agent without the trainer role, made with the operator's command."""
    username = f"plain.{uuid.uuid4().hex[:6]}"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "create-agent", username, "--roles", "agent"],
        input=AGENT_PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BACKEND_DATABASE_URL": server.database_url,
             "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert done.returncode == 0, done.stderr
    return username


async def browser_signed_in(server, username: str, password: str):
    """A cookie jar like a browser's, signed in through the console's sign-in."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(f"{server.url}/api/v1/agent/sign-in", json={"username": username, "password": password}) as reply:
        assert reply.status == 200, await reply.text()
        csrf = (await reply.json())["csrf_token"]
    return http, csrf


async def test_only_signed_in_trainers_see_the_inbox_and_analytics_and_forms_need_csrf(feed, http):
    await feed.publish(Conversation().user("frobnicate my chart widget", "nlu_fallback", 0.2, real="mychart_about")
                       .action("utter_ask_rephrase"))
    await feed.applied()
    base = feed.server.url
    for path in ("/trainer", "/trainer/analytics", "/api/v1/review", "/api/v1/analytics"):
        async with http.get(base + path) as reply:  # signed out
            assert reply.status == 401
            assert "frobnicate" not in await reply.text()

    agent, _ = await browser_signed_in(feed.server, create_plain_agent(feed.server), AGENT_PASSWORD)
    trainer, csrf = await browser_signed_in(feed.server, *DEMO_TRAINER)
    try:
        for path in ("/trainer", "/trainer/analytics", "/api/v1/review"):
            async with agent.get(base + path) as reply:
                assert reply.status == 403
                assert "frobnicate" not in await reply.text()
        async with trainer.get(base + "/trainer") as reply:
            page = await reply.text()
            assert reply.status == 200 and "frobnicate my chart widget" in page
            assert "<script" not in page  # the inbox works without any script
        async with trainer.get(base + "/trainer/analytics") as reply:
            assert reply.status == 200 and "<svg" in await reply.text()
        item = (await feed.inbox())[0]["items"][0]["id"]
        topic_file = feed.checkout / "data" / "nlu" / "mychart.yml"
        before = topic_file.read_text()
        async with trainer.post(f"{base}/trainer/items/{item}", data={"intent": "mychart_about"},
                                allow_redirects=False) as reply:
            assert reply.status == 403  # no CSRF token in the form
        assert topic_file.read_text() == before
        async with trainer.post(f"{base}/trainer/items/{item}", allow_redirects=False,
                                data={"intent": "mychart_about", "decision": "example", "csrf_token": csrf}) as reply:
            assert reply.status == 303 and reply.headers["Location"].startswith("/trainer?done=Added")
        assert "- frobnicate my chart widget\n" in topic_file.read_text()
    finally:
        await agent.close()
        await trainer.close()
