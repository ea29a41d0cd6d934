"""failed sign-ins, counted per user name to rate-limit password guessing

Revision ID: 0006
Revises: 0001

A branch of its own off 0001, like 0002-0004; the service upgrades to all heads. The table holds the user name
tried and the time, never the password.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failures_username_at", "sign_in_failures", ["username", "at"], unique=False)
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_username_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
