from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from subsidy.api.deps import SessionDep
from subsidy.api.schemas import PolicyOut
from subsidy.db.models import PolicyVersionRow

router = APIRouter(prefix="/api/v1", tags=["policies"])


@router.get("/policies", response_model=list[PolicyOut])
async def policies(db: SessionDep) -> list[PolicyOut]:
    """Every policy version with its effective window and all its parameters (public information)."""
    rows = (await db.scalars(select(PolicyVersionRow).order_by(PolicyVersionRow.valid_from))).all()
    return [
        PolicyOut(
            code=row.code,
            jurisdiction=row.jurisdiction,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            parameters=row.parameters,
        )
        for row in rows
    ]
