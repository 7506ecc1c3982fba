"""Rasa's Redis lock store with every change to a lock made atomically (endpoints.scale.yml).

Rasa 3.6's RedisLockStore changes a conversation's ticket lock by reading it,
changing it in the process and writing it back. Two replicas receiving
messages of one conversation at the same moment can both read "no ticket",
both issue ticket 1 and both handle their message at once; a replica
finishing its turn can delete the lock just after another replica queued a
ticket in it, whose message then fails with a LockError.
(tests/e2e/test_lock_store.py shows both with Rasa's class and their absence
with this one.) Here each change runs in a Redis transaction (WATCH/MULTI)
that is retried when another replica changed the lock in between, so tickets
are unique and served in the order they were issued: one message of a
conversation at a time, in the order they arrived.
"""
import json
import logging
from typing import Any, Callable, Optional

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the `lock_store` section (the same settings as `type: redis`), or directly."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[Optional[TicketLock]], Any]) -> Any:
        """Apply `change` to the stored lock atomically; it returns its result and saves or deletes the lock."""
        key = self.key_prefix + conversation_id
        outcome = {}

        def transaction(pipe: Any) -> None:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            result, new_lock = change(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps())
            outcome["result"] = result

        self.red.transaction(transaction, key)
        return outcome.get("result")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Any:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except redis.exceptions.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def remove_expired(lock: Optional[TicketLock]) -> Any:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock if lock is not None and lock.tickets else None

        self._change(conversation_id, remove_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove this ticket, and the lock with it when no other ticket is waiting, in one step.

        A failure here is logged, not raised: the turn is done and stored, and
        the ticket expires after its lifetime anyway.
        """
        def finish(lock: Optional[TicketLock]) -> Any:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock if lock is not None and lock.is_someone_waiting() else None

        try:
            self._change(conversation_id, finish)
        except redis.exceptions.RedisError as error:
            logger.warning("Could not release a conversation lock (it expires by itself): %s", error)
