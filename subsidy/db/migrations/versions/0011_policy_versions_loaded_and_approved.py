"""policy versions loaded by an administrator and approved by a second official (four eyes)

Revision ID: 0011
Revises: 0007

A version is `pending` from its loading until a second official approves it (`approved`) or someone rejects it
(`rejected`); only approved versions apply to applications. Each row says who loaded it, from which file, and who
approved or rejected it; `difference` is what the loader was shown against the version in force. The versions
seeded before this revision were the shipped baseline: they become approved by "system". Codes may now be 64
characters long (they are the versions' ids in the API), in the applications that pin them too.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("policy_versions", "code", type_=sa.String(64))
    op.alter_column("applications", "policy_version", type_=sa.String(64))
    op.add_column("policy_versions", sa.Column("status", sa.String(16), nullable=False, server_default="approved"))
    op.add_column("policy_versions", sa.Column("loaded_by", sa.String(64), nullable=False, server_default="system"))
    op.add_column(
        "policy_versions",
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.add_column("policy_versions", sa.Column("source", sa.Text()))
    op.add_column("policy_versions", sa.Column("difference", JSONB))
    op.add_column("policy_versions", sa.Column("approved_by", sa.String(64)))
    op.add_column("policy_versions", sa.Column("approved_at", sa.DateTime(timezone=True)))
    op.add_column("policy_versions", sa.Column("rejected_by", sa.String(64)))
    op.add_column("policy_versions", sa.Column("rejected_at", sa.DateTime(timezone=True)))
    op.add_column("policy_versions", sa.Column("rejection_reason", sa.Text()))
    op.execute(
        "UPDATE policy_versions SET approved_by = 'system', approved_at = loaded_at, "
        "source = CASE WHEN code IN ('baotou-2023', 'baotou-2025') THEN code || '.yaml' END"
    )
    op.alter_column("policy_versions", "status", server_default="pending")
    op.alter_column("policy_versions", "loaded_by", server_default=None)
    op.create_check_constraint(
        "known_policy_status", "policy_versions", "status IN ('pending', 'approved', 'rejected')"
    )
    op.create_check_constraint(
        "approval_recorded",
        "policy_versions",
        "(status = 'approved') = (approved_by IS NOT NULL AND approved_at IS NOT NULL)",
    )
    op.create_check_constraint(
        "rejection_recorded",
        "policy_versions",
        "(status = 'rejected') = (rejected_by IS NOT NULL AND rejected_at IS NOT NULL)",
    )
    op.create_index("ix_policy_versions_in_force", "policy_versions", ["jurisdiction", "status", "valid_from"])


def downgrade() -> None:
    op.drop_index("ix_policy_versions_in_force", table_name="policy_versions")
    op.execute("DELETE FROM policy_versions WHERE status <> 'approved'")
    for name in ("rejection_recorded", "approval_recorded", "known_policy_status"):
        op.drop_constraint(name, "policy_versions")
    for column in (
        "rejection_reason",
        "rejected_at",
        "rejected_by",
        "approved_at",
        "approved_by",
        "difference",
        "source",
        "loaded_at",
        "loaded_by",
        "status",
    ):
        op.drop_column("policy_versions", column)
    op.alter_column("applications", "policy_version", type_=sa.String(32))
    op.alter_column("policy_versions", "code", type_=sa.String(32))
