"""The graduate hiring subsidy's form, validated field by field with the rent and training forms' field types.

Dates as people type them; the graduation and the contract's start have happened (not after today, China time);
the contract ends on or after its start. The policy's own rules (a fresh graduate, a year's contract, insurance
from the start) are the workflow's reason codes, not form errors: a refusal names the rule.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from subsidy.programs.public_welfare.form import EmployerPart
from subsidy.programs.rent_subsidy.form import CountyCode, FormDate, PastDate
from subsidy.programs.training_subsidy.form import TraineePart


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GraduatePart(TraineePart):
    """The hired graduate: name, resident ID, disability certificate (which must match the ID)."""


class ContractPart(_Strict):
    start_date: PastDate = Field(description="the labour contract's first day (not after the application day)")
    end_date: FormDate = Field(description="the labour contract's last day")

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise PydanticCustomError("contract_order", "the contract must end on or after its start date")
        return value


class GraduateHiringForm(_Strict):
    """An employer's claim for hiring a fresh graduate with a disability (安置残疾人应届高校毕业生补贴)."""

    program: Literal["graduate_hiring_subsidy"]
    employer: EmployerPart
    county: CountyCode = Field(description="the county whose DPF decides and co-funds the subsidy")
    person: GraduatePart
    graduated_on: PastDate = Field(description="the day of graduation (on the diploma); not after today")
    contract: ContractPart
    social_insurance_from: FormDate = Field(description="the first day the employer insures the person")
