"""POST /api/v1/person-registry/prior-years: a County DPF official records the years a blind massage practitioner
was subsidised before the service, from the federation's paper register (see `prior_years.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from subsidy.api.deps import ResourcesDep, SessionDep, require_roles
from subsidy.api.errors import Invalid, documented
from subsidy.api.security import Identity
from subsidy.forms.text import PlainLine, VisibleLetters
from subsidy.policy.identifiers import IdentifierError, validate_resident_id
from subsidy.programs.blind_massage_insurance_subsidy.prior_years import record_prior_years
from subsidy.programs.rent_subsidy.form import Name, ResidentIdText, _refuse

router = APIRouter(prefix="/api/v1", tags=["person registry"], responses=documented(401))


class PriorYearsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    program: Literal["blind_massage_insurance_subsidy"]
    id_number: ResidentIdText
    name: Name
    years: Annotated[
        list[Annotated[int, Field(ge=1980, le=2100)]],
        Field(min_length=1, max_length=60, description="calendar years before the current one"),
    ]
    source: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        PlainLine,
        VisibleLetters,
        Field(description="where the register records it, e.g. its volume and page"),
    ]

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return validate_resident_id(value).number
        except IdentifierError as error:
            raise _refuse(error.code, error.message) from None


class PriorYearsOut(BaseModel):
    recorded: list[int] = Field(description="the years recorded now")
    already_held: list[int] = Field(description="the years the person already held (register or application)")
    years_held: list[int] = Field(description="every year the person now holds for this subsidy")
    county: str = Field(description="the county recorded with the years: the recording official's")


@router.post(
    "/person-registry/prior-years",
    response_model=PriorYearsOut,
    status_code=201,
    responses=documented(400, 403, 413),
)
async def record_prior_subsidised_years(
    body: PriorYearsIn,
    identity: Annotated[Identity, Depends(require_roles("county_dpf"))],
    db: SessionDep,
    res: ResourcesDep,
    response: Response,
) -> PriorYearsOut:
    """County DPF officials only; the years are recorded with the official's own county. Audited as
    `prior_years_recorded`. A year that is not before the current one is refused (422)."""
    this_year = res.settings.today().year
    for index, year in enumerate(body.years):
        if year >= this_year:
            raise Invalid(f"years.{index}", f"only years before {this_year} can come from the register")
    assert identity.county is not None
    found = await record_prior_years(
        db,
        id_number=body.id_number,
        name=body.name,
        years=body.years,
        source=body.source,
        county=identity.county,
        official=identity.username,
    )
    return PriorYearsOut(
        recorded=found.recorded, already_held=found.already_held, years_held=found.held_years, county=identity.county
    )
