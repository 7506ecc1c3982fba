"""Hand-off on the staff channels: a staff member on Slack or Teams reaches a help-desk agent.

The member asks for a person and consents with the offer's button; the demo agent claims and
replies through the console's API; the fake cloud must receive the reply in the member's own
conversation (on Slack, the thread of the question), marked as the agent's; what the member
writes meanwhile must reach the agent, and resolving must tell the member the assistant is back.
"""
import json
import re
import uuid

from tests.agents import Agent, wait_for
from tests.channels.conftest import new_user
from tests.channels.test_teams import TeamsClient, in_conversation

AGENT_REPLY = "Hi, this is Avery from the help desk. Which site is it about?"
AGENT_NAME = "Avery (demo agent)"  # the demo agent's display name (bot/backend/demo_data.yml)
BACK_WITH_ASSISTANT = "back with the Avera virtual assistant"


def reference_in(text: str) -> str:
    match = re.search(r"reference is (HD-[A-Z0-9]+)", text)
    assert match, text
    return match.group(1)


def slack_buttons(post):
    return {e["text"]["text"]: e["value"] for block in post.get("blocks", []) if block["type"] == "actions"
            for e in block["elements"]}


def claim_and_reply(stack, reference: str, channel: str):
    """The agent finds the member's escalation (from their channel), claims it and sends AGENT_REPLY."""
    agent = Agent(stack)
    escalation = agent.find(reference)
    assert escalation["channel"] == channel
    assert agent.post(escalation["id"], "claim").status_code == 200
    reply = agent.post(escalation["id"], "reply", {"text": AGENT_REPLY})
    assert reply.status_code == 201, reply.text
    return agent, escalation


def test_a_slack_member_in_a_channel_thread_reaches_an_agent_and_comes_back(workspace, slack, channels_stack):
    user, channel = new_user(), "C0HANDOFF"
    question = workspace.message("can I talk to a real person", user, channel=channel, channel_type="channel")
    thread = question["event"]["ts"]
    in_thread = lambda p: p.get("channel") == channel and p.get("thread_ts") == thread  # noqa: E731
    workspace.send_event(question)
    [offer] = slack.wait_for_posts(1, in_thread)
    assert "Shall I connect you?" in offer["text"]
    assert workspace.click(user, slack_buttons(offer)["Yes, connect me"], channel, thread_ts=thread)[0] == 200
    started = slack.wait_for_posts(2, in_thread)[1]
    reference = reference_in(started["text"])

    agent, escalation = claim_and_reply(channels_stack, reference, "slack")
    delivered = slack.wait_for_posts(3, in_thread)[2]
    assert delivered["text"] == f"{AGENT_NAME}: {AGENT_REPLY}"
    # Typed by a person: one message, as typed, pinging nobody (Slack escapes are &amp; &lt; &gt;).
    assert agent.post(escalation["id"], "reply", {"text": "Steps: <!channel> & <b>\n\nthen sign in"}).status_code == 201
    typed = slack.wait_for_posts(4, in_thread)[3]
    assert typed["text"] == f"{AGENT_NAME}: Steps: &lt;!channel&gt; &amp; &lt;b&gt;\n\nthen sign in"

    workspace.send_event(workspace.message("Prairie Demo Family Practice, my password is Sunny-Day-42", user,
                                           channel=channel, channel_type="channel", thread_ts=thread))
    heard = wait_for(lambda: agent.member_messages(escalation["id"]), "the member's message at the agent")
    assert heard == ["Prairie Demo Family Practice, my password is [removed password]"]

    assert agent.post(escalation["id"], "resolve", {"note": "site exists"}).status_code == 200
    back = slack.wait_for_posts(5, in_thread)[4]
    assert BACK_WITH_ASSISTANT in back["text"]
    assert len(slack.wait_for_posts(5, in_thread, timeout=0)) == 5, "the bot stayed quiet while the agent had it"
    workspace.send_event(workspace.message("what user roles are there in System Link?", user, channel=channel,
                                           channel_type="channel", thread_ts=thread))
    assert "Clinical Staff" in slack.wait_for_posts(6, in_thread)[5]["text"]


def test_a_teams_member_reaches_an_agent_and_comes_back(channels_stack, microsoft):
    teams = TeamsClient(channels_stack.rasa_url, microsoft)
    conversation, user = f"a:{uuid.uuid4().hex}", f"29:{uuid.uuid4().hex}"
    teams.send(microsoft.activity("can I talk to a real person", user=user, conversation=conversation))
    [offer] = microsoft.wait_for_replies(1, in_conversation(conversation))
    card = offer["activity"]["attachments"][0]["content"]
    assert "Shall I connect you?" in card["text"]
    consent = next(action for action in card["buttons"] if action["title"] == "Yes, connect me")
    teams.send(microsoft.activity(consent["text"], user=user, conversation=conversation, value=consent["value"]))
    started = microsoft.wait_for_replies(2, in_conversation(conversation))[1]["activity"]
    reference = reference_in(started["text"])

    agent, escalation = claim_and_reply(channels_stack, reference, "teams")
    delivered = microsoft.wait_for_replies(3, in_conversation(conversation))[2]
    assert delivered["activity"]["text"] == f"{AGENT_NAME}: {AGENT_REPLY}"
    assert delivered["activity"]["textFormat"] == "plain"  # typed by a person: shown as typed, not as markdown
    assert delivered["activity"]["recipient"]["id"] == user

    teams.send(microsoft.activity("it is for Prairie Demo Family Practice", user=user, conversation=conversation))
    heard = wait_for(lambda: agent.member_messages(escalation["id"]), "the member's message at the agent")
    assert heard == ["it is for Prairie Demo Family Practice"]

    assert agent.post(escalation["id"], "resolve", {"note": "site exists"}).status_code == 200
    replies = microsoft.wait_for_replies(4, in_conversation(conversation))
    assert BACK_WITH_ASSISTANT in replies[3]["activity"]["text"]
    assert len(replies) == 4, "the bot stayed quiet while the agent had it: " + json.dumps(replies[2:])
    teams.send(microsoft.activity("what user roles are there in System Link?", user=user, conversation=conversation))
    answer = microsoft.wait_for_replies(5, in_conversation(conversation))[4]["activity"]
    assert "Clinical Staff" in json.dumps(answer)
