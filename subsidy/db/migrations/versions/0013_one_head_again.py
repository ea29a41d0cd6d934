"""the branches of session 3 joined again: sessions (0008), account bindings (0009) and policy defaults (0012)

Revision ID: 0013
Revises: 0008, 0009, 0012

No schema change: one head, so that `alembic upgrade head` and a later migration have a single parent.
"""

revision = "0013"
down_revision = ("0008", "0009", "0012")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
