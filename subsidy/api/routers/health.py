from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from subsidy.api.deps import ResourcesDep
from subsidy.api.schemas import Health
from subsidy.db.calendar import CalendarStatus, calendar_status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(res: ResourcesDep) -> JSONResponse:
    database = temporal = "ok"
    calendar: CalendarStatus | None = None
    try:
        async with asyncio.timeout(3):
            async with res.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            async with res.sessions() as session:
                calendar = await calendar_status(session, res.settings.today())
    except Exception:
        database = "down"
    try:
        async with asyncio.timeout(3):
            await res.temporal.service_client.check_health()
    except Exception:
        temporal = "down"
    body = Health(
        status="ok" if database == temporal == "ok" else "degraded",
        database=database,
        temporal=temporal,
        calendar="next_year_unknown" if calendar is not None and calendar.warning else "ok",
        calendar_warning=calendar.warning if calendar is not None else None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)
