"""Human hand-off: agents, their sessions, escalation details and messages; agents in the audit log.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_ACTORS = "actor IN ('admin', 'actions', 'public', 'system')"
NEW_ACTORS = "actor IN ('admin', 'actions', 'public', 'system', 'agent')"


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_sessions_agent_id_agents")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_agent_sessions")),
    )
    op.create_index(op.f("ix_agent_sessions_agent_id"), "agent_sessions", ["agent_id"], unique=False)
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("summary", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("contact", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("user_left_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("unclaimed_notice_at", sa.DateTime(), nullable=True))
        batch.create_unique_constraint(op.f("uq_escalations_reference"), ["reference"])
        batch.create_foreign_key(op.f("fk_escalations_claimed_by_agents"), "agents", ["claimed_by"], ["id"])
    op.create_table(
        "escalation_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("event_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("sender IN ('user', 'agent', 'system')", name=op.f("ck_escalation_messages_sender")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_escalation_messages_agent_id_agents")),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name=op.f("fk_escalation_messages_escalation_id_escalations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_messages")),
        sa.UniqueConstraint("event_key", name=op.f("uq_escalation_messages_event_key")),
    )
    op.create_index(op.f("ix_escalation_messages_escalation_id"), "escalation_messages", ["escalation_id"],
                    unique=False)
    _audit_actors(NEW_ACTORS, add_agent_id=True)


def downgrade() -> None:
    _audit_actors(OLD_ACTORS, add_agent_id=False)
    op.drop_index(op.f("ix_escalation_messages_escalation_id"), table_name="escalation_messages")
    op.drop_table("escalation_messages")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_constraint(op.f("fk_escalations_claimed_by_agents"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_escalations_reference"), type_="unique")
        for column in ("unclaimed_notice_at", "user_left_at", "resolution_note", "outcome", "claimed_by",
                       "contact", "summary", "channel", "reference"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_agent_sessions_agent_id"), table_name="agent_sessions")
    op.drop_table("agent_sessions")
    op.drop_table("agents")


def _audit_actors(new: str, add_agent_id: bool) -> None:
    """Let (or stop letting) agents appear as the actor of audit entries."""
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_actor"), type_="check")
        batch.create_check_constraint(op.f("ck_audit_log_actor"), sa.text(new))
        if add_agent_id:
            batch.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        else:
            batch.drop_column("agent_id")
