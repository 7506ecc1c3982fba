"""Two replicas never handle two messages of one conversation at once, and they take turns in order.

Each "replica" is a lock store instance with its own Redis connection in its
own thread (Redis calls release the GIL, so their reads and writes really
interleave), all queueing for the same conversation on the machine's Redis.
"""
import asyncio
import threading
import time
import uuid

from rasa.core.lock_store import LockError, RedisLockStore

from bot.lock_store import AtomicRedisLockStore
from tests.services import REDIS, require_redis

REDIS_DB = 5
REPLICAS = 4
TURNS_EACH = 40


def contend(store_class, lifetime=30, turns_each=TURNS_EACH):
    """REPLICAS threads take the lock of one conversation TURNS_EACH times; what went wrong is counted."""
    require_redis()
    conversation = f"lock-test-{uuid.uuid4().hex}"
    state = {"inside": 0, "overlaps": 0, "errors": 0, "served": []}
    guard = threading.Lock()
    start = threading.Barrier(REPLICAS)

    async def replica_turns(store):
        for _ in range(turns_each):
            try:
                async with store.lock(conversation, lock_lifetime=lifetime, wait_time_in_seconds=0.001) as lock:
                    with guard:
                        state["inside"] += 1
                        state["overlaps"] += state["inside"] > 1
                        state["served"].append(lock.now_serving)
                    time.sleep(0.001)  # the turn's work, in this thread
                    with guard:
                        state["inside"] -= 1
            except LockError:
                with guard:
                    state["errors"] += 1

    def replica():
        store = store_class(host=REDIS["host"], port=REDIS["port"], db=REDIS_DB, key_prefix="averalocktest")
        start.wait()
        asyncio.run(replica_turns(store))

    threads = [threading.Thread(target=replica, daemon=True) for _ in range(REPLICAS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    state["stuck"] = sum(thread.is_alive() for thread in threads)  # daemon threads: left behind, not joined
    return state


def test_one_message_of_a_conversation_at_a_time_in_ticket_order():
    state = contend(AtomicRedisLockStore)
    assert state["overlaps"] == 0 and state["errors"] == 0 and state["stuck"] == 0
    assert len(state["served"]) == REPLICAS * TURNS_EACH
    # Tickets are served in the order they were issued (a lock emptied in between starts again at 0).
    for before, after in zip(state["served"], state["served"][1:]):
        assert after in (before + 1, 0)


def test_rasas_redis_lock_store_lets_replicas_overlap_or_fail():
    """Why bot/lock_store.py exists: the same load on Rasa 3.6's RedisLockStore goes wrong."""
    state = contend(RedisLockStore, lifetime=1, turns_each=10)  # a lost ticket blocks its queue until it expires
    assert state["overlaps"] + state["errors"] + state["stuck"] > 0


async def test_the_embedded_lock_store_serves_one_message_of_a_conversation_at_a_time_in_order(monkeypatch):
    """endpoints.yml's lock store, as Rasa builds it: turns of a conversation never overlap."""
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "read-by-endpoints-yml")
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    from bot.lock_store import PromptInMemoryLockStore

    store = LockStore.create(read_endpoint_config("endpoints.yml", "lock_store"))
    assert isinstance(store, PromptInMemoryLockStore)
    inside, served = [], []

    async def turn(number: int) -> None:
        async with store.lock("member-1"):
            inside.append(number)
            assert len(inside) == 1, "two turns of one conversation at once"
            await asyncio.sleep(0.01)
            served.append(number)
            inside.remove(number)

    tasks = []
    for number in range(5):
        tasks.append(asyncio.create_task(turn(number)))
        await asyncio.sleep(0)  # arrive one after another
    await asyncio.gather(*tasks)
    assert served == [0, 1, 2, 3, 4]
