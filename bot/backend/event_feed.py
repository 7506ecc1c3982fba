"""The one consumer of Rasa's event stream: it keeps the review inbox and the analytics current.

Two sources, chosen by BACKEND_EVENT_FEED:
- "sql": Rasa's SQL event broker writes an `events` table into this backend's
  database (the embedded default); the feed reads the rows after the last one it
  applied and moves its position in the same transaction, so a restart neither
  skips nor repeats an event.
- "rabbitmq": the scale profile's pika broker publishes to a durable queue, a
  turn's events as one message holding a list (bot/event_broker.py; Rasa's own
  broker sends one event a message, also read); each message is applied in one
  transaction and acknowledged only after it commits, so nothing is lost while
  the feed is down, and a redelivered message changes nothing
  (services/conversation_feed.py).
"""
import asyncio
import json
import logging
from typing import Any, Dict, List, Optional

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.backend.db import Database, is_unavailable
from bot.backend.models import EventFeedPosition
from bot.backend.services.conversation_feed import apply_event
from bot.backend.settings import Settings

log = logging.getLogger(__name__)
BATCH_SIZE = 500
RETRY_SECONDS = 2.0


def decode(body: Any) -> Optional[Dict[str, Any]]:
    """One event (a broker table's row); anything else is skipped."""
    event = _parsed(body)
    return event if isinstance(event, dict) else None


def decode_message(body: Any) -> List[Dict[str, Any]]:
    """The events in one AMQP message: a list of them, or one event; what is not an event is skipped."""
    parsed = _parsed(body)
    return [event for event in (parsed if isinstance(parsed, list) else [parsed]) if isinstance(event, dict)]


def _parsed(body: Any) -> Any:
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return None


async def follow_sql_table(db: Database, poll_seconds: float) -> None:
    """Apply new rows of the broker's `events` table, for ever."""
    while True:
        try:
            applied = await apply_sql_batch(db)
        except (OperationalError, ProgrammingError) as error:
            if not (is_unavailable(error) or "events" in str(error.orig)):
                raise
            applied = 0  # the database is away, or Rasa has not created its table yet
        if applied < BATCH_SIZE:
            await asyncio.sleep(poll_seconds)


async def apply_sql_batch(db: Database) -> int:
    async with db.transaction() as session:
        position = await session.get(EventFeedPosition, 1)
        if position is None:
            position = EventFeedPosition(id=1, last_event_id=0)
            session.add(position)
        rows = (await session.execute(
            text("SELECT id, data FROM events WHERE id > :after ORDER BY id LIMIT :limit"),
            {"after": position.last_event_id, "limit": BATCH_SIZE},
        )).all()
        for row_id, body in rows:
            event = decode(body)
            if event is not None:
                await apply_event(session, event)
            position.last_event_id = row_id
        if rows:
            await forget_applied(session, position.last_event_id)
        return len(rows)


async def forget_applied(session, last_applied: int) -> None:
    """The broker table is a queue, not an archive: applied rows may hold what a user typed in a form.

    The newest row stays, emptied, so that SQLite never hands its id out again.
    """
    await session.execute(text("DELETE FROM events WHERE id < :last"), {"last": last_applied})
    await session.execute(text("UPDATE events SET data = '' WHERE id = :last"), {"last": last_applied})


async def follow_rabbitmq(db: Database, settings: Settings) -> None:
    """Consume the broker's durable queue; reconnects by itself (aio-pika's robust connection)."""
    import aio_pika  # only the scale profile needs it

    while True:
        try:
            connection = await aio_pika.connect_robust(
                host=settings.rabbitmq_host, port=settings.rabbitmq_port,
                login=settings.rabbitmq_user, password=settings.rabbitmq_password)
            break
        except (OSError, aio_pika.exceptions.AMQPConnectionError):
            log.warning("event feed: RabbitMQ unreachable; retrying in %.0fs", RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1)
        queue = await channel.declare_queue(settings.rabbitmq_queue, durable=True)
        async with queue.iterator() as messages:
            async for message in messages:
                events = decode_message(message.body)
                if events:
                    async with db.transaction() as session:
                        for event in events:
                            await apply_event(session, event)
                await message.ack()


async def follow(db: Database, settings: Settings) -> None:
    """Run the configured feed; an unexpected error is logged and the feed starts again."""
    while True:
        try:
            if settings.event_feed == "rabbitmq":
                await follow_rabbitmq(db, settings)
            else:
                await follow_sql_table(db, settings.event_feed_poll_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event feed stopped; starting again in %.0fs", RETRY_SECONDS)
        await asyncio.sleep(RETRY_SECONDS)
