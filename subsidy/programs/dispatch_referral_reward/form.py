"""The dispatch referral reward's form, validated field by field with the rent and placement forms' field types."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ValidationInfo, field_validator

from subsidy.programs.public_welfare.form import EmployerPart, _Strict
from subsidy.programs.rent_subsidy.form import CountyCode, FormDate, PastDate, _refuse
from subsidy.programs.training_subsidy.form import TraineePart


class AgencyPart(EmployerPart):
    """The labour dispatch agency (劳务派遣机构) that referred the person: its name and credit code."""


class ReferredPerson(TraineePart):
    """The person referred: name, resident ID, disability certificate (of the same person)."""


class ContractPart(_Strict):
    start_date: PastDate
    end_date: FormDate

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise _refuse("contract_order", "the contract must end on or after its start date")
        return value


class DispatchReferralForm(_Strict):
    """A labour dispatch agency's claim of the reward for one person's employment (推荐残疾人就业补贴)."""

    program: Literal["dispatch_referral_reward"]
    agency: AgencyPart
    county: CountyCode
    person: ReferredPerson
    employer: EmployerPart
    contract: ContractPart
