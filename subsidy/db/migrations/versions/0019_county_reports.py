"""the counties' submitted annual reports, frozen

Revision ID: 0019
Revises: 0018

`county_reports`: one per county and year, the figures (and their SHA-256) and the narrative as of submission.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "county_reports",
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("figures_sha256", sa.String(length=64), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("application_id"),
        sa.UniqueConstraint("county", "year", name="one_report_per_county_and_year"),
    )


def downgrade() -> None:
    op.drop_table("county_reports")
