"""The official calendar's years: the list (any signed-in user) and loading a year file (administrators).

The year file is YAML (README "The official calendar"); JSON is YAML too, so a client may send the same fields as
a JSON object. An inconsistent file is a 422 naming each problem by its place in the file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from subsidy.api.deps import CurrentUser, SessionDep, require_roles
from subsidy.api.errors import ErrorOut, ServiceError, documented
from subsidy.api.security import Identity
from subsidy.db.calendar import known_years, store_year
from subsidy.db.calendar_models import CalendarYearRow
from subsidy.policy.calendar_file import CalendarFileError, CalendarYear, parse_year_file

router = APIRouter(prefix="/api/v1", tags=["calendar"], responses=documented(401))


class HolidayOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    first: date = Field(serialization_alias="from", validation_alias="from")
    last: date = Field(serialization_alias="to", validation_alias="to")


class WorkingDayOut(BaseModel):
    date: date
    name: str


class CalendarYearOut(BaseModel):
    year: int
    source: str = Field(description="State Council notice, example, test data or chinesecalendar (seeded)")
    example: bool
    notice: str | None
    url: str | None
    description: str | None
    holidays: list[HolidayOut]
    working_days: list[WorkingDayOut] = Field(description="weekends that are working days (调休)")
    loaded_by: str
    loaded_at: datetime


class CalendarYearLoaded(CalendarYearOut):
    replaced: bool = Field(description="the year was known before and this file replaced it")


class InvalidYearFile(ServiceError):
    """422 with one item per problem: `loc` is ["body", place in the file...]."""

    status_code = 422

    def __init__(self, error: CalendarFileError) -> None:
        super().__init__(
            [
                {"loc": ["body", *problem.field.split(".")], "msg": problem.message, "type": "calendar_file"}
                for problem in error.problems
            ]
        )


def year_out(row: CalendarYearRow) -> dict[str, Any]:
    return {
        "year": row.year,
        "source": row.source,
        "example": row.example,
        "notice": row.notice,
        "url": row.url,
        "description": row.description,
        "holidays": row.days["holidays"],
        "working_days": row.days["working_days"],
        "loaded_by": row.loaded_by,
        "loaded_at": row.loaded_at,
    }


def read_year_file(body: bytes) -> CalendarYear:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidYearFile(CalendarFileError.of("file", "not UTF-8 text")) from None
    try:
        return parse_year_file(text)
    except CalendarFileError as error:
        raise InvalidYearFile(error) from None


@router.get("/calendar/years", response_model=list[CalendarYearOut])
async def calendar_years(identity: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """Every year of the official calendar the service knows, with its source (notice, URL, or the package)."""
    return [year_out(row) for row in await known_years(db)]


@router.post(
    "/calendar/years",
    response_model=CalendarYearLoaded,
    status_code=201,
    responses={
        **documented(403),
        422: {"model": ErrorOut, "description": "the year file is not consistent: each problem by its place"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the year file (README: holidays, adjusted working days, the notice's number and URL)",
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def load_calendar_year(
    request: Request,
    response: Response,
    identity: Annotated[Identity, Depends(require_roles("admin"))],
    db: SessionDep,
) -> dict[str, Any]:
    """Load (or replace) one year from its file; administrators only. Audited as `calendar_year_loaded`."""
    year = read_year_file(await request.body())
    replaced = await store_year(db, year, identity.username)
    row = await db.get(CalendarYearRow, year.year, populate_existing=True)
    assert row is not None
    response.headers["Location"] = "/api/v1/calendar/years"
    return {**year_out(row), "replaced": replaced}
