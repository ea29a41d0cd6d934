"""The annual report over HTTP: the figures of a year for a county or the city, the rows behind each figure, the
plans and their actions' statuses."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from subsidy.api.deps import CurrentUser, ResourcesDep, SessionDep
from subsidy.api.errors import Forbidden, Invalid, NotFound, documented
from subsidy.api.security import Identity
from subsidy.forms.text import PlainText
from subsidy.policy.counties import BAOTOU_CITY_CODE, BAOTOU_COUNTIES
from subsidy.policy.plans import ACTION_STATUSES
from subsidy.reports.annual import REPORT_ROLES, annual_report, report_csv_rows
from subsidy.reports.figures import TRACEABLE, figure_rows

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=documented(401, 403))

YearQuery = Annotated[int, Query(ge=2000, le=2100, description="the calendar year")]
CountyQuery = Annotated[str | None, Query(pattern=r"^\d{6}$", description="a county; none: the whole city")]


def report_scope(identity: Identity, county: str | None) -> str | None:
    """The county the caller may read: a county official reads their own county only (theirs when none is asked);
    the City DPF, the region, auditors and administrators read any county and the city."""
    if not identity.has(*REPORT_ROLES):
        raise Forbidden("the annual report is for officials, auditors and administrators")
    if identity.has("city_dpf", "region_hr", "auditor", "admin"):
        if county is not None and county not in BAOTOU_COUNTIES:
            raise Invalid("county", f"{county} is not a county of the city")
        return county
    if county is not None and county != identity.county:
        raise Forbidden("a county official reads the report of their own county")
    return identity.county


@router.get(
    "/reports/annual",
    responses={
        200: {
            "description": "the report: JSON, or with format=csv a CSV with a byte-order mark (Chinese intact)",
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
        },
        **documented(401, 403),
    },
)
async def annual(
    identity: CurrentUser,
    db: SessionDep,
    res: ResourcesDep,
    year: YearQuery,
    county: CountyQuery = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    scope = report_scope(identity, county)
    report = await annual_report(
        db,
        year,
        scope,
        counties=list(BAOTOU_COUNTIES),
        today=res.settings.today(),
        jurisdiction=BAOTOU_CITY_CODE,
    )
    if format == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(report_csv_rows(report, lambda code: BAOTOU_COUNTIES.get(code, code)))
        name = f"annual-report-{year}-{scope or BAOTOU_CITY_CODE}.csv"
        # With a byte-order mark, so that a spreadsheet opens the Chinese text as UTF-8.
        return Response(
            "\ufeff" + out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(report)


class FigureRowOut(BaseModel):
    application_id: str
    program: str
    county: str
    status: str
    on: str | None
    person: str | None
    detail: str


@router.get("/reports/annual/rows", response_model=list[FigureRowOut], responses=documented(401, 403))
async def annual_rows(
    identity: CurrentUser,
    db: SessionDep,
    year: YearQuery,
    figure: Annotated[str, Query(pattern="^(" + "|".join(TRACEABLE) + ")$")],
    county: CountyQuery = None,
) -> list[FigureRowOut]:
    scope = report_scope(identity, county)
    return [
        FigureRowOut(
            application_id=row.application_id,
            program=row.program,
            county=row.county,
            status=row.status,
            on=row.on.isoformat() if row.on else None,
            person=row.person,
            detail=row.detail,
        )
        for row in await figure_rows(db, figure, year, scope)
    ]


class ActionStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["not_started", "in_progress", "done"]
    note: Annotated[str, Field(max_length=2000), PlainText] = ""


class ActionStatusOut(BaseModel):
    plan: str
    number: int
    status: str
    note: str
    updated_by: str
    updated_at: str


@router.post(
    "/plans/{code}/actions/{number}",
    response_model=ActionStatusOut,
    responses=documented(400, 401, 403, 404, 413),
)
async def update_action(
    code: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
    number: Annotated[int, Path(ge=1, le=1000)],
    body: ActionStatusIn,
    identity: CurrentUser,
    db: SessionDep,
) -> ActionStatusOut:
    from subsidy.db.plans import set_action_status, stored_plans

    if not identity.has("city_dpf"):
        raise Forbidden("a City DPF official updates the plan's actions")
    plan = next((plan for plan in await stored_plans(db) if plan.code == code), None)
    if plan is None or all(action.number != number for action in plan.actions):
        raise NotFound(f"plan {code} has no action {number}")
    assert body.status in ACTION_STATUSES
    row = await set_action_status(db, code, number, body.status, body.note.strip(), actor=identity.username)
    await db.commit()
    return ActionStatusOut(
        plan=code,
        number=number,
        status=row.status,
        note=row.note,
        updated_by=row.updated_by,
        updated_at=row.updated_at.isoformat(),
    )
