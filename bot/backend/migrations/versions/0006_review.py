"""Tables the trainers' review inbox and analytics read, filled from Rasa's event stream.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_conversations",
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("active_form", sa.String(length=64), nullable=True),
        sa.Column("ended_form_run_id", sa.Integer(), nullable=True),
        sa.Column("last_turn_id", sa.Integer(), nullable=True),
        sa.Column("last_event_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_review_conversations")),
    )
    op.create_index(op.f("ix_review_conversations_started_at"), "review_conversations", ["started_at"])
    op.create_table(
        "review_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.Column("followed_by_complaint", sa.Boolean(), nullable=False),
        sa.Column("followed_by_handoff", sa.Boolean(), nullable=False),
        sa.Column("next_intent", sa.String(length=100), nullable=True),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_intent", sa.String(length=100), nullable=True),
        sa.CheckConstraint("review_status IN ('open', 'example_added', 'out_of_scope')",
                           name=op.f("ck_review_turns_review_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_turns")),
        sa.UniqueConstraint("event_key", name=op.f("uq_review_turns_event_key")),
    )
    op.create_index(op.f("ix_review_turns_sender_id"), "review_turns", ["sender_id"])
    op.create_index(op.f("ix_review_turns_created_at"), "review_turns", ["created_at"])
    op.create_table(
        "form_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.CheckConstraint("outcome IN ('completed', 'abandoned')", name=op.f("ck_form_runs_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_runs")),
        sa.UniqueConstraint("event_key", name=op.f("uq_form_runs_event_key")),
    )
    op.create_index(op.f("ix_form_runs_sender_id"), "form_runs", ["sender_id"])
    op.create_index(op.f("ix_form_runs_started_at"), "form_runs", ["started_at"])
    op.create_table(
        "event_feed_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_feed_position")),
    )


def downgrade() -> None:
    for table in ("event_feed_position", "form_runs", "review_turns", "review_conversations"):
        op.drop_table(table)
