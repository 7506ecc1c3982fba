"""When the conversation database does not answer, the member is told so, and nothing of the turn is kept.

A Rasa server on the help desk's tracker store (a SQLite file, 1 s time-out)
while another process holds the file's write lock: Rasa's own SQL store
would wait forever, and Rasa would go on with an empty conversation in
memory. Here the reply says to try again with the support number, and once
the database is free the conversation goes on without the lost turn.
"""
import sqlite3

import pytest

from bot.cli import free_port, model_path, rasa_service, write_endpoints
from bot.facts import phone
from bot.unavailable import unavailable_text
from tests.e2e.conftest import Chat


@pytest.fixture
def server_and_database(stack, tmp_path):
    database = tmp_path / "tracker.db"
    endpoints = write_endpoints(tmp_path / "endpoints.yml", f"{stack.actions_url}/webhook", database,
                                tracker_store={"timeout_seconds": 1})
    server = rasa_service(model_path(), free_port(), endpoints, stack.env, tmp_path / "rasa.log")
    server.start()
    try:
        server.wait_healthy(180)
        yield server, database
    finally:
        server.stop()


def test_the_member_hears_the_store_is_down_and_the_turn_is_not_kept(stack, server_and_database):
    server, database = server_and_database
    chat = Chat(stack)
    chat.url = server.health_url.split("/status")[0] + "/webhooks/rest/webhook"
    assert phone("mychart") in chat.say("i got locked out of mychart")

    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        assert chat.say("how do I sign up for MyChart?") == unavailable_text()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    assert phone("mychart") in chat.say("what number do i call?")  # the context survived
    with sqlite3.connect(database) as connection:
        texts = [row[0] for row in connection.execute(
            "SELECT json_extract(data, '$.text') FROM events WHERE sender_id = ? AND type_name = 'user' "
            "ORDER BY id", (chat.sender,))]
    assert texts == ["i got locked out of mychart", "what number do i call?"]
