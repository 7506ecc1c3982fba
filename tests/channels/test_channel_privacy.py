"""A password or SSN typed into Slack or Teams is removed before Rasa stores it, as on the website."""
import json
import uuid

from tests.channels.conftest import new_user
from tests.channels.test_teams import TeamsClient, in_conversation
from tests.e2e.test_conversations import tracker_json
from tests.e2e.test_handoff import wait_for


def stored_after_turn(stack, sender: str) -> str:
    """The stored conversation once the user's turn is in it.

    The staff channels post the reply while Rasa is still in the turn; Rasa
    stores the turn (in one transaction) only after it, so the reply arriving
    does not mean the turn is stored yet.
    """
    def stored_with_turn():
        stored = tracker_json(stack, sender)
        return stored if any(event["event"] == "user" for event in json.loads(stored)["events"]) else None
    return wait_for(stored_with_turn, f"the turn of {sender} in the tracker store")


def test_a_password_typed_in_slack_is_neither_repeated_nor_stored(channels_stack, workspace, slack):
    user = new_user()
    workspace.send_event(workspace.message("my password is Sunny2024! why cant i log in", user, channel=f"D{user}"))
    [reply] = slack.wait_for_posts(1, lambda post: post.get("channel") == f"D{user}")
    assert "Sunny2024" not in reply["text"] and "share" in reply["text"]
    stored = stored_after_turn(channels_stack, user)
    assert "why cant i log in" in stored and "Sunny2024" not in stored


def test_an_ssn_typed_in_teams_is_neither_repeated_nor_stored(channels_stack, microsoft):
    conversation, user = f"a:{uuid.uuid4().hex}", f"29:{uuid.uuid4().hex}"
    TeamsClient(channels_stack.rasa_url, microsoft).send(
        microsoft.activity("my social is 123-45-6789 can you look me up", user=user, conversation=conversation))
    [reply] = microsoft.wait_for_replies(1, in_conversation(conversation))
    assert "6789" not in str(reply["activity"])
    stored = stored_after_turn(channels_stack, user)
    assert "can you look me up" in stored and "123-45-6789" not in stored
