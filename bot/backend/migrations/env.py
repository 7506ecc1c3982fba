"""Alembic environment. The backend runs migrations itself at start (db.Database.migrate)
and hands its open connection over in `config.attributes["connection"]`."""
from alembic import context

from bot.backend.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
