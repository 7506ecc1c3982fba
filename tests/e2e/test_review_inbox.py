"""The trainers' review inbox and analytics, end to end: real conversations through Rasa,
Rasa's event broker (SQL into the backend's database, or RabbitMQ), the backend's feed.

Each broker gets a stack of its own, so the counts are exactly this script's.
"""
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import yaml

from bot.cli import delete_rabbitmq_queue, isolated_stack, model_path
from tests.e2e.conftest import Chat, backend_call
from tests.services import require_rabbitmq

WAIT_SECONDS = 30
UNDERSTOOD = [["how do I sign up for mychart", "thanks"], ["what browsers does system link support"]]
MISUNDERSTOOD = [["zxqv blorp flarn"], ["zxqv blorp flarn please"], ["quuxle wibble"]]
SECRET = "Hunter2-Secret!"


@pytest.fixture(scope="module", params=["sql", "rabbitmq"])
def review_stack(request, tmp_path_factory):
    queue = f"avera_test_{uuid.uuid4().hex[:8]}" if request.param == "rabbitmq" else None
    if queue:
        require_rabbitmq()
    with isolated_stack(model_path(), tmp_path_factory.mktemp(f"review-{request.param}"),
                        rabbitmq_queue=queue) as stack:
        yield stack
    if queue:
        delete_rabbitmq_queue(queue)


def converse(stack, turns_by_conversation):
    senders = []
    for turns in turns_by_conversation:
        chat = Chat(stack)
        for text in turns:
            chat.say(text)
        senders.append(chat.sender)
    return senders


def eventually(read, until, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            assert until(value), f"{what}: {value}"
            return value
        time.sleep(0.3)


def tables_containing(stack, value: str):
    database = sqlite3.connect(stack.env["BACKEND_DATABASE_URL"].split(":///", 1)[1])
    try:
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [table for table in tables if value in repr(database.execute(f"SELECT * FROM {table}").fetchall())]
    finally:
        database.close()


def get(stack, path):
    status, body = backend_call(stack, "GET", path)
    assert status == 200, body
    return body


def inbox_texts(stack):
    return sorted(sorted(item["text"] for item in group["items"]) for group in get(stack, "/review")["groups"])


def test_the_inbox_shows_exactly_the_misunderstood_messages_and_one_step_makes_an_example(review_stack):
    stack = review_stack
    converse(stack, UNDERSTOOD + MISUNDERSTOOD)
    form = Chat(stack)
    form.say("I never got my MyChart access code, can you send me a new one?")
    form.say("Dana Quillfeather")
    form.say(f"my password is {SECRET}")

    expected = [["quuxle wibble"], ["zxqv blorp flarn", "zxqv blorp flarn please"]]
    assert eventually(lambda: inbox_texts(stack), lambda texts: texts == expected, "inbox") == expected
    figures = eventually(lambda: get(stack, "/analytics"), lambda f: f["user_messages"] == 9, "analytics")
    assert figures["conversations"] == 6
    assert figures["per_channel"] == {"rest": 6}
    assert figures["containment_rate"] == round(3 / 6, 4)  # two understood + the form; the rest fell back
    assert [(f["form"], f["in_progress"]) for f in figures["forms"]] == [("access_code_reissue_form", 1)]

    # What was typed inside the identity form is in no table of the backend's database: the feed
    # kept it masked and removed the broker's rows; the typed password never reached the broker.
    assert tables_containing(stack, "Quillfeather") == [] and tables_containing(stack, SECRET) == []

    group = next(g for g in get(stack, "/review")["groups"] if g["count"] == 2)
    item = next(i for i in group["items"] if i["text"] == "zxqv blorp flarn please")
    status, done = backend_call(stack, "POST", f"/review/items/{item['id']}/example", {"intent": "out_of_scope"})
    assert status == 200, done
    checkout = Path(stack.env["BACKEND_TRAINING_DATA_DIR"])
    nlu = yaml.safe_load((checkout / done["file"]).read_text())["nlu"]
    examples = next(entry["examples"] for entry in nlu if entry.get("intent") == "out_of_scope")
    assert "- zxqv blorp flarn please\n" in examples
    assert inbox_texts(stack) == [["quuxle wibble"], ["zxqv blorp flarn"]]


def test_nothing_is_lost_or_counted_twice_while_the_feed_is_down(review_stack):
    stack = review_stack
    before = get(stack, "/analytics")["user_messages"]
    backend = stack.services[0]
    backend.stop()
    try:
        converse(stack, [["wibble wobble zorp"], ["how long is a password reset link good for"]])
    finally:
        backend.start()
        backend.wait_healthy(timeout=60)
    converse(stack, [["and what about zorp wibble wobble"]])
    figures = eventually(lambda: get(stack, "/analytics"), lambda f: f["user_messages"] >= before + 3, "analytics")
    assert figures["user_messages"] == before + 3
    time.sleep(1)  # a redelivery after the restart would show up by now
    assert get(stack, "/analytics")["user_messages"] == before + 3
