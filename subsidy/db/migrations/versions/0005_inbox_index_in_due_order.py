"""inbox indexes in the inbox's order: per county (role, county, status, due_at, created_at, id), and city-wide

Revision ID: 0005
Revises: 0001

A branch of its own off 0001, like 0002-0004 and 0006; the service upgrades to all heads.

The inbox reads each part of an official's scope (role, their county or city-wide, status) as one range of an index
in the order it shows (earliest due, then oldest, then id), so a page costs the same with 10^3 or 10^6 task rows
(`python -m bench`, README "Performance"). City-wide tasks (county IS NULL) get a partial index of their own: Postgres
does not treat `county IS NULL` as fixing the column, so it would sort a city-wide range read from the first one.
The old index (role, county, status, due_at) is a prefix of the first: it goes. Built CONCURRENTLY, outside the
migration's transaction, so that a large table keeps taking inserts meanwhile.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_tasks_inbox_order",
            "tasks",
            ["role", "county", "status", "due_at", "created_at", "id"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_tasks_inbox_citywide",
            "tasks",
            ["role", "status", "due_at", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text("county IS NULL"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.drop_index("ix_tasks_inbox", table_name="tasks", postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_tasks_inbox",
            "tasks",
            ["role", "county", "status", "due_at"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.drop_index("ix_tasks_inbox_citywide", table_name="tasks", postgresql_concurrently=True, if_exists=True)
        op.drop_index("ix_tasks_inbox_order", table_name="tasks", postgresql_concurrently=True, if_exists=True)
