"""applications waiting for their workflow to start, found by index; the branches 0002-0006 joined again

Revision ID: 0007
Revises: 0002, 0003, 0004, 0005, 0006

The worker's starter looks every SUBSIDY_SWEEP_SECONDS for applications still `submitted` (subsidy/service/starter.py):
a partial index holds only those few rows, so the look costs the same with a thousand applications or a million.
"""

from alembic import op

revision = "0007"
down_revision = ("0002", "0003", "0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_applications_waiting_to_start",
        "applications",
        ["submitted_at"],
        postgresql_where="status = 'submitted'",
    )


def downgrade() -> None:
    op.drop_index("ix_applications_waiting_to_start", table_name="applications")
