"""The scale profile as `make run-scale` starts it: PostgreSQL, Redis, two Rasa replicas behind nginx.

A conversation goes on whichever replica nginx picks; messages of one
conversation sent at the same moment are handled one at a time (the Redis
lock store) and each is stored once, whole, before the next. A turn nginx
gave up waiting for is not called lost.
"""
import asyncio
import json
import os
import signal
import time
import urllib.error
import uuid

import aiohttp
import psycopg2
import pytest

from bot.cli import model_path
from bot.scale import forget, scale_stack
from tests.e2e.conftest import Chat
from tests.services import POSTGRES, require_postgres, require_redis


@pytest.fixture(scope="module")
def scale(tmp_path_factory):
    require_postgres()
    require_redis()
    stack = scale_stack(model_path(), tmp_path_factory.mktemp("scale"))
    try:
        with stack:
            yield stack
    finally:
        forget(stack)


def stored_events(stack, sender):
    connection = psycopg2.connect(**{**POSTGRES, "dbname": stack.database})
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return [(kind, json.loads(data)) for kind, data in cursor.fetchall()]
    finally:
        connection.close()


def test_a_conversation_continues_on_the_other_replica(scale):
    first, second = Chat(scale), Chat(scale)
    second.sender = first.sender
    first.url, second.url = (f"{replica.health_url.split('/status')[0]}/webhooks/rest/webhook"
                             for replica in scale.replicas)
    assert "855-667-9704" in first.say("i got locked out of mychart")
    assert "855-667-9704" in second.say("what number do i call?")  # the context was read from PostgreSQL
    users = [data["text"] for kind, data in stored_events(scale, first.sender) if kind == "user"]
    assert users == ["i got locked out of mychart", "what number do i call?"]


def test_simultaneous_messages_of_one_conversation_are_handled_one_at_a_time(scale):
    """Through nginx (both replicas), 8 messages at once per conversation: all answered, stored once, whole."""
    messages = [f"what is mychart? ({i})" for i in range(8)]

    async def burst(sender):
        async with aiohttp.ClientSession() as session:
            async def say(text):
                async with session.post(f"{scale.rasa_url}/webhooks/rest/webhook",
                                        json={"sender": sender, "message": text}) as response:
                    return response.status, await response.json()
            return await asyncio.gather(*(say(text) for text in messages))

    senders = [f"burst-{uuid.uuid4().hex[:10]}" for _ in range(3)]
    for sender in senders:
        replies = asyncio.run(burst(sender))
        assert all(status == 200 and body and body[0].get("text") for status, body in replies), replies
        events = stored_events(scale, sender)
        users = [data["text"] for kind, data in events if kind == "user"]
        assert sorted(users) == sorted(messages)  # each once
        # Turns do not interleave: after each user message, the bot finishes (action_listen) before the next.
        kinds = [kind if kind != "action" else data["name"] for kind, data in events]
        for i, kind in enumerate(kinds):
            if kind == "user":
                following = kinds[i + 1:]
                assert "action_listen" in following
                assert "user" not in following[:following.index("action_listen")]


def test_a_turn_nginx_gave_up_waiting_for_is_not_called_lost(tmp_path):
    """A replica too slow to answer (here: stopped, nginx waits 2 s): the member hears it may still be
    handled, not that it was not recorded; the replica, going on, handles it once."""
    stack = scale_stack(model_path(), tmp_path, replicas=1, action_servers=1, turn_timeout_s=2)
    try:
        with stack:
            chat = Chat(stack)
            assert "855-667-9704" in chat.say("i got locked out of mychart")
            replica = stack.replicas[0]
            os.killpg(replica.process.pid, signal.SIGSTOP)
            try:
                with pytest.raises(urllib.error.HTTPError) as refused:
                    chat.say("how long does the lockout last?")
                reply = json.loads(refused.value.read())[0]["text"]
            finally:
                os.killpg(replica.process.pid, signal.SIGCONT)
            assert refused.value.code == 504
            assert "may still be handled" in reply and "855-667-9704" in reply
            assert "didn't record" not in reply
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                users = [data["text"] for kind, data in stored_events(stack, chat.sender) if kind == "user"]
                if len(users) == 2:
                    break
                time.sleep(0.2)
            assert users == ["i got locked out of mychart", "how long does the lockout last?"]
    finally:
        forget(stack)
