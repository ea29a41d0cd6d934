"""payments, batches, bank lines, corrected accounts and recoveries

Revision ID: 0020
Revises: 0019

A month that ends is no longer `paid`: it is `due`, and `paid` means the bank confirmed it. Every month already
posted becomes a due payment per funder (its ledger rows are the obligation), so the finance officer batches it.
The ledger takes negative rows for recoveries (item `recovery`).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)
SCHEDULE_STATUSES = "('planned', 'due', 'batched', 'sent', 'paid', 'failed', 'corrected', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "payment_batches",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("funder", sa.String(length=8), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("up_to_period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("built_by", sa.String(length=64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('built', 'approved', 'sent', 'settled')", name="known_batch_status"),
        sa.CheckConstraint("approved_by IS NULL OR approved_by <> built_by", name="four_eyes"),
        sa.CheckConstraint("(status = 'built') = (approved_by IS NULL)", name="approval_recorded"),
        sa.CheckConstraint("lines > 0 AND total > 0", name="batch_not_empty"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_batches_scope", "payment_batches", ["funder", "county", "built_at"])
    op.create_table(
        "payments",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("program", sa.String(length=48), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("funder", sa.String(length=8), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('due', 'batched', 'sent', 'paid', 'failed', 'corrected', 'cancelled')",
            name="known_payment_status",
        ),
        sa.CheckConstraint("amount > 0", name="payment_positive"),
        sa.CheckConstraint(
            "(status IN ('batched', 'sent', 'paid')) = (batch_id IS NOT NULL)", name="batched_has_batch"
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR coalesce(length(trim(cancel_reason)), 0) > 0", name="cancel_reason"
        ),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["payment_batches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("application_id", "period", "funder", name="one_payment_per_funder_period"),
    )
    op.create_index("ix_payments_scope", "payments", ["funder", "county", "status", "period"])
    op.create_index("ix_payments_application", "payments", ["application_id"])
    op.create_table(
        "payment_lines",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("payment_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("batch_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("payee_name", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=34), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("result IS NULL OR result IN ('paid', 'failed')", name="known_line_result"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["payment_batches.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"]),
        sa.PrimaryKeyConstraint("reference"),
    )
    op.create_index("ix_payment_lines_batch", "payment_lines", ["batch_id"])
    op.create_index("ix_payment_lines_payment", "payment_lines", ["payment_id"])
    op.create_table(
        "bank_account_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account", sa.String(length=34), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_reference", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bank_account_changes_application", "bank_account_changes", ["application_id", "id"])
    op.create_table(
        "recoveries",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("person_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("program", sa.String(length=48), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("event", sa.String(length=48), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("months", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("city_amount", MONEY, nullable=False),
        sa.Column("county_amount", MONEY, nullable=False),
        sa.Column("outstanding", MONEY, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("write_off_proposed_by", sa.String(length=64), nullable=True),
        sa.Column("write_off_reason", sa.Text(), nullable=True),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settlement_note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'repaid', 'offset', 'written_off')", name="known_recovery_status"),
        sa.CheckConstraint("city_amount + county_amount = amount", name="recovery_shares_add_up"),
        sa.CheckConstraint("outstanding >= 0 AND outstanding <= amount", name="outstanding_within_amount"),
        sa.CheckConstraint(
            "status <> 'written_off' OR (settled_by IS NOT NULL AND write_off_proposed_by IS NOT NULL "
            "AND settled_by <> write_off_proposed_by)",
            name="write_off_by_two",
        ),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_index("ix_recoveries_person", "recoveries", ["person_id"])

    op.drop_constraint("not_negative", "ledger", type_="check")
    op.create_check_constraint("not_negative_but_recovery", "ledger", "amount >= 0 OR item IN ('recovery', 'reversal')")
    op.drop_constraint("known_status", "schedule", type_="check")
    op.create_check_constraint("known_status", "schedule", f"status IN {SCHEDULE_STATUSES}")

    # What was "paid" was posted, not confirmed by a bank: each posted month is due, one payment per funder.
    op.execute("UPDATE schedule SET status = 'due' WHERE status = 'paid'")
    op.execute(
        """
        INSERT INTO payments (id, reference, attempt, application_id, program, county, period, funder, amount, status)
        SELECT gen_random_uuid(),
               upper(substr(replace(application_id::text, '-', ''), 1, 16)) || '-' || replace(period, '-', '')
                 || '-' || CASE funder WHEN 'city' THEN 'SJ' ELSE 'XJ' END || '-1',
               1, application_id, min(program), min(county), period, funder, sum(amount), 'due'
        FROM ledger
        GROUP BY application_id, period, funder
        HAVING sum(amount) > 0
        """
    )


def downgrade() -> None:
    op.execute("UPDATE schedule SET status = 'paid' WHERE status NOT IN ('planned', 'cancelled')")
    op.drop_constraint("known_status", "schedule", type_="check")
    op.create_check_constraint("known_status", "schedule", "status IN ('planned', 'paid', 'cancelled')")
    op.execute("DELETE FROM ledger WHERE item IN ('recovery', 'reversal')")
    op.drop_constraint("not_negative_but_recovery", "ledger", type_="check")
    op.create_check_constraint("not_negative", "ledger", "amount >= 0")
    op.drop_table("recoveries")
    op.drop_table("bank_account_changes")
    op.drop_table("payment_lines")
    op.drop_table("payments")
    op.drop_table("payment_batches")
