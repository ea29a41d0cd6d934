"""Migration 0012 on a database of its own: a stored version without later parameters gets exactly the missing keys
with their defaults and an audit record naming them; every present value, and every full row, stays as it was."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.audit_chain import verify_chain
from subsidy.db.migrate import alembic_config, upgrade
from subsidy.db.models import AuditRecord, PolicyVersionRow
from subsidy.db.session import create_engine, session_factory
from subsidy.service.seed import seed_policies
from tests.policy.test_version_defaults import DEFAULTS_AS_RELEASED, NATIONAL_RULES_JSON, shipped_2025, without

STRIPPED = "stored-before-defaults"
FULL = "stored-in-full"


@pytest.fixture
async def own_database(database_url: str) -> AsyncIterator[str]:
    """A fresh database in the session's PostgreSQL cluster, dropped afterwards."""
    url = make_url(database_url)
    name = f"migration_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(user="postgres", host=url.query["host"], database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def stored(code: str, parameters: dict[str, Any], year: int) -> PolicyVersionRow:
    return PolicyVersionRow(
        code=code,
        jurisdiction="150200",
        valid_from=date(year, 1, 1),
        valid_to=date(year, 12, 31),
        parameters={**parameters, "code": code, "valid_from": f"{year}-01-01", "valid_to": f"{year}-12-31"},
        status="pending",
        loaded_by="admin-a",
        source="test",
    )


async def rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, dict[str, Any]]:
    async with sessions() as session:
        return {row.code: row.parameters for row in (await session.scalars(select(PolicyVersionRow))).all()}


async def filled_records(sessions: async_sessionmaker[AsyncSession]) -> list[AuditRecord]:
    async with sessions() as session:
        query = select(AuditRecord).where(AuditRecord.kind == "policy_parameters_filled").order_by(AuditRecord.id)
        return list((await session.scalars(query)).all())


async def test_0012_fills_the_missing_keys_of_stored_versions_and_never_a_present_value(own_database: str) -> None:
    config = alembic_config(own_database)
    await asyncio.to_thread(upgrade, own_database)
    engine = create_engine(own_database, pool_size=2)
    sessions = session_factory(engine)
    try:
        await seed_policies(sessions)  # two full versions, and four audit records before the migration's
        await asyncio.to_thread(command.downgrade, config, "0011")  # only 0012 is undone
        parameters = without(
            shipped_2025(),
            "rent.review_due_working_days",
            "placement.retirement_rules",
            "placement.default_female_retirement_category",
            "training",
        )
        parameters["rent"]["monthly_cap"] = "1200.00"  # present values that are not the defaults
        parameters["rent"]["city_share"] = "0.50"
        parameters["placement"]["publicity_working_days"] = 7
        parameters["placement"]["monthly_post_subsidy_by_county"] = {"150203": "1980.00"}
        full = shipped_2025()
        full["rent"]["review_due_working_days"] = 3
        async with sessions.begin() as session:
            session.add_all([stored(STRIPPED, parameters, 2040), stored(FULL, full, 2041)])
        before = await rows(sessions)

        await asyncio.to_thread(upgrade, own_database)

        after = await rows(sessions)
        expected = copy.deepcopy(before[STRIPPED])
        expected["rent"]["review_due_working_days"] = 10
        expected["placement"]["retirement_rules"] = NATIONAL_RULES_JSON
        expected["placement"]["default_female_retirement_category"] = "female_50"
        expected["training"] = DEFAULTS_AS_RELEASED["training"]
        assert after[STRIPPED] == expected
        assert after[STRIPPED]["rent"]["monthly_cap"] == "1200.00" and after[STRIPPED]["rent"]["city_share"] == "0.50"
        assert after[STRIPPED]["placement"]["publicity_working_days"] == 7
        assert after[STRIPPED]["placement"]["monthly_post_subsidy_by_county"] == {"150203": "1980.00"}
        # Full rows are untouched, the stated 3 included.
        assert {code: after[code] for code in after if code != STRIPPED} == {
            code: before[code] for code in before if code != STRIPPED
        }
        assert after[FULL]["rent"]["review_due_working_days"] == 3
        assert sorted(after) == ["baotou-2023", "baotou-2025", STRIPPED, FULL]

        records = await filled_records(sessions)
        assert [(r.actor, r.application_id) for r in records] == [("system", None)]
        assert records[0].detail == {
            "code": STRIPPED,
            "revision": "0012",
            "filled": [
                {"path": "rent.review_due_working_days", "value": 10},
                {"path": "placement.retirement_rules", "value": NATIONAL_RULES_JSON},
                {"path": "placement.default_female_retirement_category", "value": "female_50"},
                {"path": "training", "value": DEFAULTS_AS_RELEASED["training"]},
            ],
        }
        async with sessions() as session:
            check = await verify_chain(session)
        # The seeded versions' rows, the minimum wage standard's, the four plans' and the filling's.
        assert (check.ok, check.rows, check.first_bad_row) == (True, 10, None)

        # Down and up again: nothing is missing any more, so nothing changes and nothing more is audited.
        await asyncio.to_thread(command.downgrade, config, "0011")
        assert await rows(sessions) == after  # the downgrade leaves the filled keys
        await asyncio.to_thread(upgrade, own_database)
        assert await rows(sessions) == after
        assert len(await filled_records(sessions)) == 1
    finally:
        await engine.dispose()
