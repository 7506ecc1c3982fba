"""Rasa's SQL event broker, set up to share the backend's SQLite file (the embedded default).

Rasa writes every event of every turn into the `events` table of the backend's
database, where the backend's event feed reads it for the review inbox and the
analytics (bot/backend/event_feed.py). Rasa's broker opens SQLite with its
defaults: a rollback journal synced on every commit, and a writer that fails at
once while the backend writes. This subclass uses WAL (as the backend does) and
waits for the other writer instead; nothing else changes.
"""
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker

BUSY_TIMEOUT_MS = 5000


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class SharedSQLiteEventBroker(SQLEventBroker):
    def __init__(self, db: str = "var/backend.db", **kwargs: Any) -> None:
        super().__init__(dialect="sqlite", db=db, **kwargs)
        self.engine.dispose()
        self.engine = sa.create_engine(self.engine.url)
        sa.event.listen(self.engine, "connect", _tune_sqlite)
        self.sessionmaker.configure(bind=self.engine)
