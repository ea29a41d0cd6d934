"""The county annual report's form: nobody submits one; the yearly round opens it for each county."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CountyReportForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program: Literal["county_annual_report"]
    county: str = Field(pattern=r"^\d{6}$")
    year: int = Field(ge=2000, le=2100)
