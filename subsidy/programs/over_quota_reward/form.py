"""The over-quota employment reward claim: what an employer submits, validated field by field.

The same model checks the JSON API body and the HTML form; it reuses the employer part and the identifier types of
the other programs. Error messages name employees by their line in the list, never by ID number.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from subsidy.policy.identifiers import IdentifierError, validate_disability_cert, validate_resident_id
from subsidy.policy.workdays import china_today
from subsidy.programs.public_welfare.form import EmployerPart
from subsidy.programs.rent_subsidy.form import CertText, CountyCode, Name, ResidentIdText, refuse_at

MAX_EMPLOYEES = 2000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmployeePart(_Strict):
    name: Name
    id_number: ResidentIdText
    disability_cert_number: CertText

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return validate_resident_id(value, on=china_today()).number
        except IdentifierError as error:
            raise PydanticCustomError(error.code, error.message) from None

    @field_validator("disability_cert_number")
    @classmethod
    def _cert_matches_id(cls, value: str, info: ValidationInfo) -> str:
        try:
            return validate_disability_cert(value, info.data.get("id_number"), on=china_today()).number
        except IdentifierError as error:
            raise PydanticCustomError(error.code, error.message) from None

    @property
    def grade(self) -> int:
        return int(self.disability_cert_number[19])


class OverQuotaRewardForm(_Strict):
    program: Literal["over_quota_reward"]
    employer: EmployerPart
    county: CountyCode = Field(description="the county whose DPF reviews the claim and co-funds the reward")
    year: Annotated[int, Field(ge=2000, le=2100, description="the year claimed: a year that is over")]
    unit_kind: Literal["enterprise", "state_funded", "concentrated_placement"] = Field(
        description="units funded by the state budget and concentrated-placement institutions are not rewarded"
    )
    staff_total: Annotated[int, Field(ge=1, le=10_000_000, description="the employer's total staff in that year")]
    employees: Annotated[
        list[EmployeePart],
        Field(
            min_length=1,
            max_length=MAX_EMPLOYEES,
            description="each employee with a disability once; a grade 1 or 2 certificate counts as two persons",
        ),
    ]

    @model_validator(mode="after")
    def _each_person_once(self) -> OverQuotaRewardForm:
        first_line: dict[str, int] = {}
        for line, employee in enumerate(self.employees, start=1):
            earlier = first_line.setdefault(employee.id_number, line)
            if earlier != line:
                raise refuse_at(
                    "OverQuotaRewardForm",
                    ("employees", line - 1, "id_number"),
                    "employee_duplicate",
                    "employee {line} is the same person as employee {earlier}: list each person once",
                    {"line": line, "earlier": earlier},
                )
        return self
