"""The review feed's SQLite broker never holds up Rasa while the backend writes to the same file."""
import json
import sqlite3

from bot.event_broker import SharedSQLiteEventBroker


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
