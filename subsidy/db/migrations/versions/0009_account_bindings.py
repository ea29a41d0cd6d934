"""account bindings: whom an account acts for, verified by the County DPF; applications filed at the service window

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_bindings",
        sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("identifier", sa.String(18), nullable=False),
        sa.Column("disability_cert_number", sa.String(20)),
        sa.Column("phone", sa.String(40)),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("registration_id", UUID(as_uuid=True), sa.ForeignKey("applications.id")),
        sa.Column("reason", sa.Text()),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'employer', 'provider', 'agency')", name="known_kind"),
        sa.CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="known_status"),
        sa.CheckConstraint("kind <> 'person' OR disability_cert_number IS NOT NULL", name="person_has_certificate"),
    )
    op.create_index(
        "ux_account_bindings_verified",
        "account_bindings",
        ["kind", "identifier"],
        unique=True,
        postgresql_where="status = 'verified'",
    )
    op.create_index("ix_account_bindings_identifier", "account_bindings", ["identifier"])
    op.add_column("applications", sa.Column("filed_by", sa.String(64)))
    op.add_column("applications", sa.Column("filed_at_window", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("applications", "filed_at_window")
    op.drop_column("applications", "filed_by")
    op.drop_table("account_bindings")
