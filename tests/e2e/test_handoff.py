"""Hand-off to a person over the whole stack: the offer, the escalation, the pause, agent replies, resume.

On a stack of its own (`handoff_stack`), where nobody claims for long: HANDOFF_UNCLAIMED_SECONDS
is short, so the unclaimed-escalation notice can be seen without waiting minutes, and chat agents
are always on. Agents act through the same API the console page uses, signed in as the demo agent;
test_web_handoff.py does the same in chromium.
"""
import asyncio
import json
import re
import sqlite3
from typing import Dict, List

from bench.handoff import Member
from tests.agents import Agent, wait_for
from tests.e2e.conftest import Chat


def tracker_events(stack, sender: str) -> List[Dict]:
    """What Rasa's tracker store holds for a conversation (the SQLite file itself)."""
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(data) for (data,) in rows]


def hand_off(chat: Chat, question: str = "can I talk to a real person") -> str:
    offer = chat.say(question)
    assert "Shall I connect you?" in offer and "855-667-9704" in offer, offer
    started = chat.say("yes please")
    match = re.search(r"reference is (HD-[A-Z0-9]+)", started)
    assert match, started
    return match.group(1)


def test_messages_while_paused_are_stored_relayed_and_survive_a_backend_restart(handoff_stack):
    chat = Chat(handoff_stack)
    chat.say("I never got my MyChart access code")
    reference = hand_off(chat)
    agent = Agent(handoff_stack)
    escalation = agent.find(reference)
    assert escalation["channel"] == "rest" and escalation["reason"] == "asked_for_person"
    assert escalation["summary"]["topic"] == "mychart"
    assert escalation["transcript"][0] == {"sender": "user", "text": "I never got my MyChart access code"}

    assert chat.say("my password is Sunny-Day-42") == "", "the bot stays quiet while paused"
    stored = wait_for(lambda: agent.member_messages(escalation["id"]), "the paused message at the backend")
    assert stored == ["my password is [removed password]"]
    assert any(e["event"] == "user" and e["text"] == "my password is [removed password]"
               for e in tracker_events(handoff_stack, chat.sender))

    backend = handoff_stack.services[0]
    backend.stop()
    assert chat.say("hello? is anyone there") == ""
    backend.start()
    backend.wait_healthy(timeout=60)
    agent = Agent(handoff_stack)
    messages = wait_for(lambda: agent.member_messages(escalation["id"])[1:],
                        "the message sent while the backend was down")
    assert messages == ["hello? is anyone there"]
    assert any(e["event"] == "user" and e["text"] == "hello? is anyone there"
               for e in tracker_events(handoff_stack, chat.sender))


def test_an_agent_replies_on_the_members_channel_and_resolving_gives_the_bot_back(handoff_stack):
    chat = Chat(handoff_stack)
    reference = hand_off(chat)
    agent = Agent(handoff_stack)
    escalation = agent.find(reference)
    assert agent.post(escalation["id"], "claim").status_code == 200
    reply = agent.post(escalation["id"], "reply", {"text": "Hi, this is Avery from the help desk."})
    assert reply.status_code == 201, reply.text
    said = [e for e in tracker_events(handoff_stack, chat.sender) if e["event"] == "bot"]
    assert said[-1]["text"] == "Avery (demo agent): Hi, this is Avery from the help desk."  # REST: name in text
    assert chat.say("thanks, that helps") == ""

    resolved = agent.post(escalation["id"], "resolve", {"note": "explained access codes"})
    assert resolved.status_code == 200 and resolved.json()["outcome"] == "resolved"
    events = tracker_events(handoff_stack, chat.sender)
    assert events[-1]["event"] == "bot" and "back with the Avera virtual assistant" in events[-1]["text"]
    answer = chat.say("how long does a lockout last?")
    assert answer and re.search(r"lock", answer, re.I), answer
    second = agent.post(escalation["id"], "reply", {"text": "one more thing"})
    assert second.status_code == 409


def test_frustration_after_an_answer_is_the_reason_the_agent_sees(handoff_stack):
    chat = Chat(handoff_stack)
    chat.say("how long does a lockout last?")
    reference = hand_off(chat, "that's not what I asked")
    escalation = Agent(handoff_stack).find(reference)
    assert escalation["reason"] == "frustration"
    assert any("lockout" in step for step in escalation["summary"]["tried"])

    agent = Agent(handoff_stack)
    assert agent.post(escalation["id"], "claim").status_code == 200
    handed_back = agent.post(escalation["id"], "hand-back")
    assert handed_back.status_code == 200 and handed_back.json()["outcome"] == "handed_back"
    assert re.search(r"lock", chat.say("how long does a lockout last?"), re.I)


def test_two_messages_not_understood_offer_topics_and_a_person(handoff_stack):
    chat = Chat(handoff_stack)
    first = chat.say("zorp blarg fizzwop")
    assert "Shall I connect you?" not in first
    offer = chat.say("quibble snark vorpal")
    assert "MyChart sign-up" in offer and "Shall I connect you?" in offer and "855-667-9704" in offer, offer
    started = chat.say("yes")
    reference = re.search(r"reference is (HD-[A-Z0-9]+)", started).group(1)
    assert Agent(handoff_stack).find(reference)["reason"] == "not_understood_twice"


def test_no_thanks_keeps_the_bot(handoff_stack):
    chat = Chat(handoff_stack)
    chat.say("agent please")
    assert re.search(r"anything else", chat.say("no thanks"), re.I)
    assert re.search(r"lock", chat.say("how long does a lockout last?"), re.I)


def test_an_escalation_nobody_claims_tells_the_member_and_stays_queued(handoff_stack):
    chat = Chat(handoff_stack)
    reference = hand_off(chat)
    agent = Agent(handoff_stack)
    escalation = wait_for(lambda: (lambda e: e if e["unclaimed_notice_at"] else None)(agent.find(reference)),
                          "the unclaimed notice")
    assert escalation["status"] == "queued"
    notices = [e["text"] for e in tracker_events(handoff_stack, chat.sender)
               if e["event"] == "bot" and "still in the queue" in (e.get("text") or "")]
    assert len(notices) == 1 and reference in notices[0] and "855-667-9704" in notices[0]
    assert agent.post(escalation["id"], "claim").status_code == 200  # still claimable afterwards



def test_the_agent_sees_when_the_member_closes_the_website_chat(handoff_stack):
    async def hand_off_and_leave() -> str:
        member = Member(handoff_stack.rasa_url)  # a socket.io client, as the widget is
        await member.connect()
        await member.say("can I talk to a real person")
        await member.wait_for(lambda data: "Shall I connect you?" in (data.get("text") or ""))
        await member.say("yes")
        _, started = await member.wait_for(lambda data: "reference is HD-" in (data.get("text") or ""))
        await member.close()
        return re.search(r"HD-[A-Z0-9]+", started["text"]).group(0)

    reference = asyncio.run(hand_off_and_leave())
    agent = Agent(handoff_stack)
    escalation = wait_for(lambda: (lambda e: e if e["user_left_at"] else None)(agent.find(reference)),
                          "the member-left mark")
    assert escalation["status"] == "queued"  # still there for an agent to read
