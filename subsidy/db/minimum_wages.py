"""The minimum wage standards in force (`subsidy.policy.minimum_wage`), stored: seeded with the shipped file and
added to by `subsidy minimum-wage load FILE`; the workflows read them through the `minimum_wage_on` activity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Base
from subsidy.policy.minimum_wage import (
    MinimumWage,
    MinimumWageStandard,
    minimum_wage_on,
    shipped_standards,
    standard_to_json,
)


class MinimumWageStandardRow(Base):
    """One standard as its document sets it; amounts as decimal text (exact), tiers by county code."""

    __tablename__ = "minimum_wage_standards"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(6))
    document: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    monthly_by_tier: Mapped[dict[str, str]] = mapped_column(JSONB)
    county_tiers: Mapped[dict[str, int]] = mapped_column(JSONB)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def standard_of(row: MinimumWageStandardRow) -> MinimumWageStandard:
    return MinimumWageStandard(
        code=row.code,
        region=row.region,
        document=row.document,
        valid_from=row.valid_from,
        description=row.description,
        monthly_by_tier={int(tier): Decimal(amount) for tier, amount in row.monthly_by_tier.items()},
        county_tiers=dict(row.county_tiers),
    )


async def stored_standards(session: AsyncSession) -> list[MinimumWageStandard]:
    rows = await session.scalars(select(MinimumWageStandardRow).order_by(MinimumWageStandardRow.valid_from))
    return [standard_of(row) for row in rows]


async def minimum_wage(session: AsyncSession, county: str, day: date) -> MinimumWage | None:
    return minimum_wage_on(await stored_standards(session), county, day)


async def store_standard(session: AsyncSession, standard: MinimumWageStandard, *, loaded_by: str) -> bool:
    """Add a standard; False when one with its code is stored already (a stored standard is never changed: claims
    may have used it)."""
    data = standard_to_json(standard)
    inserted = await session.scalar(
        insert(MinimumWageStandardRow)
        .values(
            code=standard.code,
            region=standard.region,
            document=standard.document,
            valid_from=standard.valid_from,
            description=standard.description,
            monthly_by_tier=data["monthly_by_tier"],
            county_tiers=data["county_tiers"],
            loaded_by=loaded_by,
        )
        .on_conflict_do_nothing()
        .returning(MinimumWageStandardRow.code)
    )
    if inserted is None:
        return False
    await append_audit(
        session, kind="minimum_wage_loaded", actor=loaded_by, at=datetime.now(UTC), application_id=None, detail=data
    )
    return True


async def seed_minimum_wages(session: AsyncSession) -> None:
    for standard in shipped_standards():
        await store_standard(session, standard, loaded_by="system")
