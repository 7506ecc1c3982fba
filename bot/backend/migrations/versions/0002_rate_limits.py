"""Rate limits by client address as well as by conversation; purgeable login throttles.

identity_attempts (per conversation only) gives way to rate_limit_hits, which counts
uses of any limited action by a keyed hash of what it is limited by.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index(op.f("ix_rate_limit_hits_key_hash"), "rate_limit_hits", ["key_hash"], unique=False)
    op.create_index(op.f("ix_rate_limit_hits_created_at"), "rate_limit_hits", ["created_at"], unique=False)
    op.drop_index(op.f("ix_identity_attempts_created_at"), table_name="identity_attempts")
    op.drop_index(op.f("ix_identity_attempts_conversation_hash"), table_name="identity_attempts")
    op.drop_table("identity_attempts")
    with op.batch_alter_table("login_throttles") as batch:
        batch.add_column(sa.Column("last_failed_at", sa.DateTime(), nullable=True))
        batch.create_index(op.f("ix_login_throttles_last_failed_at"), ["last_failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_throttles") as batch:
        batch.drop_index(op.f("ix_login_throttles_last_failed_at"))
        batch.drop_column("last_failed_at")
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_attempts")),
    )
    op.create_index(op.f("ix_identity_attempts_conversation_hash"), "identity_attempts", ["conversation_hash"])
    op.create_index(op.f("ix_identity_attempts_created_at"), "identity_attempts", ["created_at"])
    op.drop_index(op.f("ix_rate_limit_hits_created_at"), table_name="rate_limit_hits")
    op.drop_index(op.f("ix_rate_limit_hits_key_hash"), table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
