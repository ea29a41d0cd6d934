"""the official calendar's years as data, and due dates marked as estimates

Revision ID: 0010
Revises: 0007

`calendar_years`: one row per year the service knows (seeded from chinesecalendar, or loaded from the State
Council's notice by an administrator). `tasks.due_is_estimate`: a due date counted Monday to Friday because its
days ran past the years the calendar knew.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("days", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "source IN ('State Council notice', 'example', 'test data', 'chinesecalendar')",
            name="known_source",
        ),
        sa.PrimaryKeyConstraint("year"),
    )
    op.add_column(
        "tasks", sa.Column("due_is_estimate", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("tasks", "due_is_estimate")
    op.drop_table("calendar_years")
