"""The review feed's brokers: SQLite never holds up Rasa while the backend writes to the same file;
RabbitMQ gets a turn's events as one message."""
import asyncio
import json
import sqlite3
import uuid

import aio_pika
from rasa.utils.endpoints import EndpointConfig

from bot.event_broker import SharedSQLiteEventBroker, TurnBatchingPikaEventBroker
from tests.services import require_rabbitmq


async def test_publishing_goes_on_while_another_writer_holds_the_database(tmp_path):
    db = str(tmp_path / "backend.db")
    broker = SharedSQLiteEventBroker(db=db)
    backend = sqlite3.connect(db, isolation_level=None)
    backend.execute("PRAGMA journal_mode=WAL")  # as the backend opens it
    backend.execute("BEGIN IMMEDIATE")  # the backend in the middle of a write
    for number in range(100):
        broker.publish({"sender_id": f"member-{number % 3}", "event": "user", "text": str(number)})
    backend.execute("COMMIT")
    backend.close()
    await broker.close()  # drains what was published
    with sqlite3.connect(db) as reader:
        rows = reader.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    assert [json.loads(data)["text"] for _, data in rows] == [str(n) for n in range(100)]
    assert rows[4][0] == "member-1"


async def test_only_the_events_the_review_feed_reads_reach_the_backends_database(tmp_path):
    """A form's slots (a name, a birth date) are not the feed's business: they never leave Rasa's tracker store."""
    db = str(tmp_path / "backend.db")
    broker = SharedSQLiteEventBroker(db=db)
    for event in ({"event": "session_started"}, {"event": "user", "text": "new access code please"},
                  {"event": "active_loop", "name": "access_code_reissue_form"},
                  {"event": "slot", "name": "date_of_birth", "value": "04/12/1985"},
                  {"event": "action", "name": "action_listen"}, {"event": "bot", "text": "What's your name?"}):
        broker.publish({"sender_id": "member-1", **event})
    await broker.close()
    with sqlite3.connect(db) as reader:
        stored = [json.loads(data) for (data,) in reader.execute("SELECT data FROM events ORDER BY id")]
    assert [event["event"] for event in stored] == ["user", "active_loop", "action", "bot"]
    assert "04/12/1985" not in json.dumps(stored)


async def test_rabbitmq_gets_the_feeds_events_published_in_one_go_as_one_message_in_order_even_at_close():
    require_rabbitmq()
    queue = f"avera_test_{uuid.uuid4().hex[:8]}"
    config = {"url": "127.0.0.1", "port": 5672, "username": "guest", "password": "guest", "queues": [queue]}
    broker = await TurnBatchingPikaEventBroker.from_endpoint_config(EndpointConfig.from_dict(config))
    for number in range(12):  # one turn: Rasa publishes its events without yielding
        broker.publish({"sender_id": "member-1", "event": "action", "name": f"step-{number}"})
        broker.publish({"sender_id": "member-1", "event": "slot", "name": f"slot-{number}"})  # not the feed's
    await asyncio.sleep(0.2)  # the next turn
    for number in range(3):
        broker.publish({"sender_id": "member-2", "event": "action", "name": f"later-{number}"})
    await broker.close()  # at once: what was published still goes out
    bodies = []
    connection = await aio_pika.connect(host="127.0.0.1", login="guest", password="guest")
    async with connection:
        channel = await connection.channel()
        stored = await channel.declare_queue(queue, durable=True)
        while (message := await stored.get(fail=False, no_ack=True)) is not None:
            bodies.append(json.loads(message.body))
        await channel.queue_delete(queue)
    assert [[event["name"] for event in body] for body in bodies] == [
        [f"step-{n}" for n in range(12)], [f"later-{n}" for n in range(3)]]
