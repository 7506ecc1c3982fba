"""The database: engine, one-transaction-per-request sessions, migrations at start."""
import asyncio
import contextlib
from pathlib import Path
from typing import AsyncIterator, Optional

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# SQLSTATE classes that mean "the server is not there for us": connection,
# authorization, unknown database, resources, operator intervention.
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28", "3D", "53", "57")


class Database:
    def __init__(self, url: str):
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error message must never carry a patient's data into a log.
        self.engine = create_async_engine(url, future=True, hide_parameters=True, pool_pre_ping=True)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False, future=True)
        # SQLite has a single writer: queue transactions here instead of failing with "database is locked".
        self._sqlite_lock: Optional[asyncio.Lock] = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        async with self._sqlite_lock or contextlib.nullcontext():
            async with self._sessions.begin() as session:
                yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision, on this engine's connection."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_to_head)

    async def close(self) -> None:
        await self.engine.dispose()


def _upgrade_to_head(connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows (applied events, scrubbed bodies) are overwritten
    cursor.close()


def is_unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached (answer 503, not 500)."""
    if isinstance(error, (OSError, asyncio.TimeoutError)):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    sqlstate = getattr(error, "sqlstate", None) or ""
    return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
