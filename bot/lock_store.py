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

It talks to Redis with redis-py's asyncio client, on the event loop: Rasa's
store makes blocking calls there (a turn waited for each round trip with every
other conversation of the replica), and a thread per call costs about as much.
Taking a ticket also says which ticket is served now, so a turn nobody else
waits for costs two round trips: take the ticket, give it back.
"""
import asyncio
import logging
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional

import redis
import redis.asyncio
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, LOCK_LIFETIME, InMemoryLockStore, LockError,
                                  RedisLockStore)
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
  local kept, first, last = {}, -1, nil
  for _, text in ipairs(lock.tickets) do
    local ticket = cjson.decode(text)
    if ticket.expires >= now and ticket.number ~= finished then
      table.insert(kept, text)
      if first < 0 then first = ticket.number end
      last = ticket.number
    end
  end
  return kept, first, last
end
"""
# Issue the next ticket; returns {its number, the number served now}.
ISSUE = UNEXPIRED + """
local raw = redis.call('GET', KEYS[1])
local lock = raw and cjson.decode(raw) or {conversation_id = ARGV[1], tickets = {}}
local now = tonumber(ARGV[3])
local tickets, first, last = unexpired(lock, now, nil)
local number = last and last + 1 or 0
table.insert(tickets, cjson.encode({number = number, expires = now + tonumber(ARGV[2])}))
lock.tickets = tickets
redis.call('SET', KEYS[1], cjson.encode(lock))
return {number, first < 0 and number or first}
"""
# Remove ticket ARGV[1] (none: -1) and expired ones; delete the lock when no ticket is left.
# Returns the number served now (-1: no ticket left).
FINISH = UNEXPIRED + """
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
local lock = cjson.decode(raw)
local tickets, first = unexpired(lock, tonumber(ARGV[2]), tonumber(ARGV[1]))
lock.tickets = tickets
if #tickets == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], cjson.encode(lock)) end
return first
"""


def asyncio_client(host: str = "localhost", port: int = 6379, db: int = 1, username: Optional[str] = None,
                   password: Optional[str] = None, use_ssl: bool = False, ssl_certfile: Optional[str] = None,
                   ssl_keyfile: Optional[str] = None, ssl_ca_certs: Optional[str] = None,
                   socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, **_: Any) -> "redis.asyncio.Redis":
    """The connection Rasa's RedisLockStore opens from the same settings (and defaults), for asyncio."""
    return redis.asyncio.Redis(host=host, port=int(port), db=int(db), username=username, password=password,
                               ssl=use_ssl, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                               ssl_ca_certs=ssl_ca_certs, socket_timeout=socket_timeout)


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the `lock_store` section (the same settings as `type: redis`), or directly."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        super().__init__(**kwargs)  # Rasa's settings and key prefix; its blocking client only reads (get_lock)
        client = asyncio_client(**kwargs)
        self._issue = client.register_script(ISSUE)
        self._finish = client.register_script(FINISH)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = RETRY_SECONDS) -> AsyncGenerator[TicketLock, None]:
        """Rasa's LockStore.lock: wait for this message's turn in the conversation, then hold it."""
        key = self.key_prefix + conversation_id
        try:
            ticket, serving = await self._issue(keys=[key], args=[conversation_id, lock_lifetime, repr(time.time())])
        except redis.exceptions.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        expires = time.time() + lock_lifetime
        try:
            while serving != ticket:
                if serving < 0 or serving > ticket:  # this ticket expired: its turn can no longer keep its place
                    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                await asyncio.sleep(wait_time_in_seconds)
                serving = await self._served_now(key, -1)
            yield TicketLock(conversation_id, deque([Ticket(ticket, expires)]))
        finally:
            await self._served_now(key, ticket)

    async def _served_now(self, key: str, finished: int) -> int:
        """Remove ticket `finished` (-1: none) and the expired ones; the number served now (-1: none).

        A failure is logged, not raised, for a finished ticket: the turn is done and stored, and the
        ticket expires after its lifetime anyway.
        """
        try:
            return int(await self._finish(keys=[key], args=[finished, repr(time.time())]))
        except redis.exceptions.RedisError as error:
            if finished < 0:
                raise LockError(f"Error while waiting for the lock. Error:\n{error}") from error
            logger.warning("Could not release a conversation lock (it expires by itself): %s", error)
            return -1
