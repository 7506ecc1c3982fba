"""The website widget's channel: socket.io, with secrets removed like on REST."""
import asyncio
import json
import urllib.request
import uuid

import socketio

from bot.rasa_api import auth_headers


async def converse(url: str, messages, session_id: str = "", headers=None, metadata=None):
    """Send each message in one socket.io session; return the bot's texts per message."""
    client = socketio.AsyncClient()
    replies: asyncio.Queue = asyncio.Queue()
    session_id = session_id or uuid.uuid4().hex

    @client.on("bot_uttered")
    async def on_bot(data):
        await replies.put(data.get("text") or "")

    await client.connect(url, transports=["polling"], headers=headers or {})
    await client.emit("session_request", {"session_id": session_id})
    answers = []
    try:
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id,
                                               **({"metadata": metadata} if metadata else {})})
            texts = [await asyncio.wait_for(replies.get(), timeout=30)]
            while True:
                try:
                    texts.append(await asyncio.wait_for(replies.get(), timeout=1.5))
                except asyncio.TimeoutError:
                    break
            answers.append("\n".join(texts))
    finally:
        await client.disconnect()
    return answers


def test_widget_chat_over_socketio(stack):
    answers = asyncio.run(converse(stack.rasa_url, [
        "what browsers does system link support?",
        "my password is Sunny2024! please check it",
    ]))
    assert "115" in answers[0]
    assert "Sunny2024" not in answers[1] and "don't share" in answers[1]


def test_the_widget_channel_records_the_address_it_saw_over_any_the_client_sends(stack):
    session_id = uuid.uuid4().hex
    asyncio.run(converse(stack.rasa_url, ["hello"], session_id, headers={"X-Forwarded-For": "198.18.7.7"},
                         metadata={"client_address": "203.0.113.7"}))
    request = urllib.request.Request(f"{stack.rasa_url}/conversations/{session_id}/tracker",
                                     headers=auth_headers(stack.env["RASA_TOKEN"]))
    with urllib.request.urlopen(request, timeout=15) as response:
        events = json.loads(response.read())["events"]
    assert next(e for e in events if e["event"] == "user")["metadata"]["client_address"] == "198.18.7.7"
