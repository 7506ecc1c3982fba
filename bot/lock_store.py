"""Conversation locks: Rasa's lock stores, waiting less and (Redis) changed atomically.

Both profiles: a message that finds its conversation locked (the previous turn,
or an agent's reply appended through Rasa's HTTP API during a hand-off) checks
the lock again every RETRY_SECONDS instead of Rasa's one second, which
otherwise adds up to a second to the reply. PromptInMemoryLockStore is
the embedded default (endpoints.yml).

AtomicRedisLockStore (endpoints.scale.yml):

Rasa 3.6's RedisLockStore changes a conversation's ticket lock by reading it,
changing it in the process and writing it back. Two replicas receiving
messages of one conversation at the same moment can both read "no ticket",
both issue ticket 1 and both handle their message at once; a replica
finishing its turn can delete the lock just after another replica queued a
ticket in it, whose message then fails with a LockError.
(tests/unit/test_lock_store.py shows these with Rasa's class, and their absence
with this one.) Here each change is one Lua script run inside Redis (one
round trip, nothing can run in between), so tickets are unique and served in
the order they were issued: one message of a conversation at a time, in the
order they arrived.
"""
import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
RETRY_SECONDS = 0.05


class PromptInMemoryLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None) -> None:
        """Built by Rasa from the `lock_store` section; it has no settings."""
        super().__init__()

    def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = RETRY_SECONDS) -> Any:
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)


# Rasa's TicketLock as JSON ({"conversation_id": ..., "tickets": ['{"number": n, "expires": t}', ...]},
# each ticket itself a JSON string),
# changed inside Redis: each script runs alone, so no other replica can change the lock in between.
# A ticket has expired when `now` (the caller's clock, as in Rasa) is past its `expires`.
UNEXPIRED = """
local function unexpired(lock, now, finished)
  local kept, last = {}, nil
  for _, text in ipairs(lock.tickets) do
    local ticket = cjson.decode(text)
    if ticket.expires >= now and ticket.number ~= finished then
      table.insert(kept, text)
      last = ticket.number
    end
  end
  return kept, last
end
"""
ISSUE = UNEXPIRED + """
local raw = redis.call('GET', KEYS[1])
local lock = raw and cjson.decode(raw) or {conversation_id = ARGV[1], tickets = {}}
local now = tonumber(ARGV[3])
local tickets, last = unexpired(lock, now, nil)
local number = last and last + 1 or 0
table.insert(tickets, cjson.encode({number = number, expires = now + tonumber(ARGV[2])}))
lock.tickets = tickets
redis.call('SET', KEYS[1], cjson.encode(lock))
return number
"""
# Remove ticket ARGV[1] (none: -1) and expired ones; delete the lock when no ticket is left.
FINISH = UNEXPIRED + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local lock = cjson.decode(raw)
lock.tickets = unexpired(lock, tonumber(ARGV[2]), tonumber(ARGV[1]))
if #lock.tickets == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], cjson.encode(lock)) end
return #lock.tickets
"""


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the `lock_store` section (the same settings as `type: redis`), or directly."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        super().__init__(**kwargs)
        self._issue = self.red.register_script(ISSUE)
        self._finish = self.red.register_script(FINISH)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = RETRY_SECONDS) -> AsyncGenerator[TicketLock, None]:
        """Rasa's LockStore.lock, its Redis calls in a thread so the event loop serves others meanwhile."""
        ticket = await asyncio.to_thread(self.issue_ticket, conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            await asyncio.to_thread(self.cleanup, conversation_id, ticket)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(self._issue(keys=[self.key_prefix + conversation_id],
                                   args=[conversation_id, lock_lifetime, repr(time.time())]))
        except redis.exceptions.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        self._finish(keys=[self.key_prefix + conversation_id], args=[-1, repr(time.time())])

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove this ticket, and the lock with it when no other ticket is waiting, in one step.

        A failure here is logged, not raised: the turn is done and stored, and
        the ticket expires after its lifetime anyway.
        """
        try:
            self._finish(keys=[self.key_prefix + conversation_id], args=[ticket_number, repr(time.time())])
        except redis.exceptions.RedisError as error:
            logger.warning("Could not release a conversation lock (it expires by itself): %s", error)
