"""Create the backend's tables.

Revision ID: 0001
Revises:
Create Date: 2024-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("actor IN ('admin', 'actions', 'public', 'system')", name=op.f("ck_audit_log_actor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"], unique=False)
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'claimed', 'resolved')", name=op.f("ck_escalations_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    op.create_index(op.f("ix_escalations_conversation_id"), "escalations", ["conversation_id"], unique=False)
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_attempts")),
    )
    op.create_index(op.f("ix_identity_attempts_conversation_hash"), "identity_attempts", ["conversation_hash"], unique=False)
    op.create_index(op.f("ix_identity_attempts_created_at"), "identity_attempts", ["created_at"], unique=False)
    op.create_table(
        "login_throttles",
        sa.Column("username_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username_hash", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_outbox_channel")),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name=op.f("ck_outbox_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_recipient"), "outbox", ["recipient"], unique=False)
    op.create_index(op.f("ix_outbox_status"), "outbox", ["status"], unique=False)
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=15), nullable=True),
        sa.Column("zip", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index(op.f("ix_patients_date_of_birth"), "patients", ["date_of_birth"], unique=False)
    op.create_table(
        "access_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_access_codes_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_access_codes_code_hash")),
    )
    op.create_index(op.f("ix_access_codes_patient_id"), "access_codes", ["patient_id"], unique=False)
    op.create_table(
        "portal_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_portal_accounts_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_accounts")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_portal_accounts_patient_id")),
        sa.UniqueConstraint("username", name=op.f("uq_portal_accounts_username")),
    )
    op.create_table(
        "site_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("facility_name", sa.String(length=200), nullable=False),
        sa.Column("facility_key", sa.String(length=200), nullable=False),
        sa.Column("facility_address", sa.String(length=300), nullable=True),
        sa.Column("agreement_attachment_id", sa.String(length=32), nullable=True),
        sa.Column("administrators", sa.JSON(), nullable=False),
        sa.Column("terms_accepted", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requester_email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("denial_reason", sa.Text(), nullable=True),
        sa.Column("email_token_hash", sa.String(length=64), nullable=False),
        sa.Column("email_confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("agreement_token_hash", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("idempotency_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('awaiting_agreement', 'awaiting_email_confirmation', 'under_review', 'approved', 'denied')",
            name=op.f("ck_site_requests_status"),
        ),
        sa.ForeignKeyConstraint(["agreement_attachment_id"], ["attachments.id"], name=op.f("fk_site_requests_agreement_attachment_id_attachments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_requests")),
        sa.UniqueConstraint("agreement_token_hash", name=op.f("uq_site_requests_agreement_token_hash")),
        sa.UniqueConstraint("email_token_hash", name=op.f("uq_site_requests_email_token_hash")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_site_requests_idempotency_key")),
        sa.UniqueConstraint("reference", name=op.f("uq_site_requests_reference")),
    )
    op.create_index(op.f("ix_site_requests_facility_key"), "site_requests", ["facility_key"], unique=False)
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["portal_accounts.id"], name=op.f("fk_password_reset_tokens_account_id_portal_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    op.create_index(op.f("ix_password_reset_tokens_account_id"), "password_reset_tokens", ["account_id"], unique=False)
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("site_request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_request_id"], ["site_requests.id"], name=op.f("fk_sites_site_request_id_site_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name_key", name=op.f("uq_sites_name_key")),
    )


def downgrade() -> None:
    op.drop_table("sites")
    op.drop_table("password_reset_tokens")
    op.drop_table("site_requests")
    op.drop_table("portal_accounts")
    op.drop_table("access_codes")
    op.drop_table("patients")
    op.drop_table("outbox")
    op.drop_table("login_throttles")
    op.drop_table("identity_attempts")
    op.drop_table("escalations")
    op.drop_table("audit_log")
    op.drop_table("attachments")
