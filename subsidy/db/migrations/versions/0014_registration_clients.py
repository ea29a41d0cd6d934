"""registrations counted per client address and window

Revision ID: 0014
Revises: 0013

`registration_clients` keeps one row per client address and fixed window of an hour (never one per attempt), like
`sign_in_clients` does for failed sign-ins: registration needs no token, so the address is what limits it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_clients",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registrations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", "window_start"),
    )
    op.create_index("ix_registration_clients_window_start", "registration_clients", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_registration_clients_window_start", table_name="registration_clients")
    op.drop_table("registration_clients")
