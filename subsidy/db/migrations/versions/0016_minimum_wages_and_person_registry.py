"""minimum wage standards and the person registry across programs

Revision ID: 0016
Revises: 0015

`minimum_wage_standards`: each monthly minimum wage standard with its document, valid-from date, amount per tier and
the tier of each county (seeded with the shipped file by `subsidy migrate`). `person_program_records`: who is
counted, referred, employed or subsidised where, one held record per person, program and key.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "minimum_wage_standards",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("monthly_by_tier", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("county_tiers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "person_program_records",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("person_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("program", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=18), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "one_held_record_per_person_program_key",
        "person_program_records",
        ["person_id", "program", "key"],
        unique=True,
        postgresql_where=sa.text("status IN ('claimed', 'granted')"),
    )
    op.create_index("ix_person_program_records_application", "person_program_records", ["application_id"])
    op.create_index("ix_person_program_records_person", "person_program_records", ["person_id", "program"])


def downgrade() -> None:
    op.drop_index("ix_person_program_records_person", table_name="person_program_records")
    op.drop_index("ix_person_program_records_application", table_name="person_program_records")
    op.drop_index("one_held_record_per_person_program_key", table_name="person_program_records")
    op.drop_table("person_program_records")
    op.drop_table("minimum_wage_standards")
