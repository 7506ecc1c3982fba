"""A Rasa process works on at most TURNS_AT_ONCE turns; the rest start in the order they came."""
import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import admission


async def test_turns_beyond_the_limit_wait_and_start_in_arrival_order(monkeypatch):
    monkeypatch.setenv("TURNS_AT_ONCE", "2")
    monkeypatch.setattr(admission, "_turns", None)
    started, in_progress, most = [], 0, 0
    release = asyncio.Event()

    async def rasa(message: UserMessage) -> None:
        nonlocal in_progress, most
        started.append(message.text)
        in_progress += 1
        most = max(most, in_progress)
        await release.wait()
        in_progress -= 1

    handle = admission.admitted(rasa)
    turns = []
    for number in range(6):
        turns.append(asyncio.create_task(handle(UserMessage(f"m{number}", CollectingOutputChannel(), "s"))))
        await asyncio.sleep(0)  # each arrives after the one before
    await asyncio.sleep(0.01)
    assert started == ["m0", "m1"]  # the others wait
    release.set()
    await asyncio.gather(*turns)
    assert started == [f"m{number}" for number in range(6)]
    assert most == 2


async def test_a_turn_that_fails_gives_its_place_back(monkeypatch):
    monkeypatch.setenv("TURNS_AT_ONCE", "1")
    monkeypatch.setattr(admission, "_turns", None)
    answered = []

    async def rasa(message: UserMessage) -> None:
        if message.text == "breaks":
            raise RuntimeError("database gone")
        answered.append(message.text)

    handle = admission.admitted(rasa)
    results = await asyncio.gather(handle(UserMessage("breaks", CollectingOutputChannel(), "s")),
                                   handle(UserMessage("next", CollectingOutputChannel(), "s")),
                                   return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert answered == ["next"]


async def test_a_turn_goes_on_when_its_caller_stops_waiting(monkeypatch):
    """Sanic cancels a request's task when the connection closes; the turn must not stop half-way."""
    monkeypatch.setattr(admission, "_turns", None)
    stored = []
    midway = asyncio.Event()

    async def rasa(message: UserMessage) -> None:
        midway.set()
        await asyncio.sleep(0.05)
        stored.append(message.text)

    request = asyncio.create_task(admission.admitted(rasa)(UserMessage("hello", CollectingOutputChannel(), "s")))
    await midway.wait()
    request.cancel()  # the connection closed
    await asyncio.sleep(0.1)
    assert stored == ["hello"]
