"""public-welfare posts and placements (program P); ledger item

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:40:00.000000

A branch of its own off 0001 (training is 0003, also off 0001); the service upgrades to all heads. Besides the
two tables of program P, the ledger gains `item`: a placement pays two kinds of money a month, so the unique key
widens to (application, period, funder, item). Existing rows become `subsidy`, which keeps their keys.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ledger", sa.Column("item", sa.String(length=24), server_default="subsidy", nullable=False)
    )
    op.drop_constraint("one_posting_per_funder_period", "ledger", type_="unique")
    op.create_unique_constraint(
        "one_posting_per_funder_period_item", "ledger", ["application_id", "period", "funder", "item"]
    )
    op.create_table(
        "public_welfare_posts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("employer_credit_code", sa.String(length=18), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("monthly_wage", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("number >= 1", name="number_from_one"),
        sa.CheckConstraint("places >= 1", name="at_least_one_place"),
        sa.CheckConstraint("monthly_wage > 0", name="wage_positive"),
        sa.CheckConstraint("category IN ('public_service', 'professional_technical')", name="known_category"),
        sa.CheckConstraint("status IN ('declared', 'approved', 'rejected', 'withdrawn')", name="known_status"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "number", name="one_post_per_number"),
    )
    op.create_index(
        "ix_public_welfare_posts_county_year", "public_welfare_posts", ["county", "year", "status"], unique=False
    )
    op.create_index(
        "ix_public_welfare_posts_employer",
        "public_welfare_posts",
        ["employer_credit_code", "county", "year"],
        unique=False,
    )
    op.create_table(
        "public_welfare_placements",
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("post_id", sa.UUID(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("retirement_on", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("extended_to_retirement", sa.Boolean(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("publicity_from", sa.Date(), nullable=True),
        sa.Column("publicity_until", sa.Date(), nullable=True),
        sa.CheckConstraint("sequence >= 1", name="sequence_from_one"),
        sa.CheckConstraint("period_end IS NULL OR period_end > start_date", name="period_after_start"),
        sa.CheckConstraint(
            "publicity_until IS NULL OR publicity_until >= publicity_from", name="publicity_ends_after_it_starts"
        ),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["public_welfare_posts.id"]),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index(
        "ix_public_welfare_placements_person", "public_welfare_placements", ["person_id"], unique=False
    )
    op.create_index("ix_public_welfare_placements_post", "public_welfare_placements", ["post_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_public_welfare_placements_post", table_name="public_welfare_placements")
    op.drop_index("ix_public_welfare_placements_person", table_name="public_welfare_placements")
    op.drop_table("public_welfare_placements")
    op.drop_index("ix_public_welfare_posts_employer", table_name="public_welfare_posts")
    op.drop_index("ix_public_welfare_posts_county_year", table_name="public_welfare_posts")
    op.drop_table("public_welfare_posts")
    # Only possible while no month pays two items: the narrower key would refuse the second.
    op.drop_constraint("one_posting_per_funder_period_item", "ledger", type_="unique")
    op.create_unique_constraint(
        "one_posting_per_funder_period", "ledger", ["application_id", "period", "funder"]
    )
    op.drop_column("ledger", "item")
