"""Bodies of the administrators' account API and of the password change (issue 12, part 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from subsidy.forms.text import LineStr
from subsidy.programs.rent_subsidy.form import CountyCode

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
Username = Annotated[
    str,
    Field(pattern=USERNAME_PATTERN, min_length=3, max_length=64, description="lower-case letters, digits and hyphens"),
]
Role = Literal[
    "applicant",
    "employer",
    "provider",
    "agency",
    "county_dpf",
    "county_hr",
    "city_dpf",
    "region_hr",
    "auditor",
    "finance",
    "admin",
]
# Roles that act for one county, and must name it; the others are city-wide (finance may be either).
COUNTY_ROLES = frozenset(("county_dpf", "county_hr"))
CITY_ROLES = frozenset(("city_dpf", "region_hr", "auditor", "admin"))


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    roles: Annotated[list[Role], Field(min_length=1, max_length=4)]
    county: CountyCode | None = None
    display_name: Annotated[LineStr, Field(min_length=1, max_length=128)] | None = None


class AccountOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    county: str | None
    disabled: bool
    must_change_password: bool
    created_at: datetime


class OneTimePassword(BaseModel):
    """Shown once: the account must choose a new password at its first sign-in, and may do nothing else before."""

    username: str
    one_time_password: str


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: Annotated[str, Field(min_length=1, max_length=128)]
    new: Annotated[str, Field(min_length=1, max_length=128)]
