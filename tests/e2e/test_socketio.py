"""The website widget's channel: socket.io, with secrets removed like on REST."""
import asyncio
import uuid

import socketio


async def converse(url: str, messages):
    """Send each message in one socket.io session; return the bot's texts per message."""
    client = socketio.AsyncClient()
    replies: asyncio.Queue = asyncio.Queue()
    session_id = uuid.uuid4().hex

    @client.on("bot_uttered")
    async def on_bot(data):
        await replies.put(data.get("text") or "")

    await client.connect(url, transports=["polling"])
    await client.emit("session_request", {"session_id": session_id})
    answers = []
    try:
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
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
