"""the body each Idempotency-Key was first sent with (its SHA-256), so that the key with another body is refused

Revision ID: 0009a
Revises: 0007

Applications submitted before this revision have no row: their key is taken as it was (any body returns them).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009a"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_bodies",
        sa.Column("application_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("applications.id"), primary_key=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("submission_bodies")
