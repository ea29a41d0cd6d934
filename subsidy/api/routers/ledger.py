from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from subsidy.api.deps import CodeQuery, CurrentUser, PageDep, SessionDep
from subsidy.api.errors import documented
from subsidy.api.read_model import application_scope
from subsidy.api.schemas import LedgerRow
from subsidy.db.models import Application, LedgerEntry

router = APIRouter(prefix="/api/v1", tags=["money"], responses=documented(401))


@router.get("/ledger", response_model=list[LedgerRow])
async def ledger(
    identity: CurrentUser,
    db: SessionDep,
    response: Response,
    paging: PageDep,
    application_id: uuid.UUID | None = None,
    funder: Literal["city", "county"] | None = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    program: CodeQuery = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[LedgerRow]:
    query = (
        select(LedgerEntry)
        .join(Application, Application.id == LedgerEntry.application_id)
        .where(application_scope(identity))
    )
    if application_id:
        query = query.where(LedgerEntry.application_id == application_id)
    if funder:
        query = query.where(LedgerEntry.funder == funder)
    if county:
        query = query.where(LedgerEntry.county == county)
    if program:
        query = query.where(LedgerEntry.program == program)
    if year:
        query = query.where(LedgerEntry.period.startswith(f"{year}-"))
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    rows = (
        await db.scalars(
            query.order_by(LedgerEntry.period, LedgerEntry.funder, LedgerEntry.id)
            .limit(paging.limit)
            .offset(paging.offset)
        )
    ).all()
    return [
        LedgerRow(
            application_id=str(row.application_id),
            period=row.period,
            funder=row.funder,
            item=row.item,
            county=row.county,
            program=row.program,
            amount=row.amount,
            posted_at=row.posted_at,
        )
        for row in rows
    ]
