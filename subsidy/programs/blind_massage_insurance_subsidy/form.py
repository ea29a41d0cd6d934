"""The blind massage practitioners' insurance subsidy's form, with the rent form's field types (the applicant, money
text, the bank account as digits) and the placement form's organisation."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator

from subsidy.policy.identifiers import normalize_identifier
from subsidy.policy.money import to_money
from subsidy.programs.public_welfare.form import EmployerPart
from subsidy.programs.rent_subsidy.form import BANK_ACCOUNT_PATTERN, ApplicantPart, MoneyText, _refuse, _Strict


class WorkplacePart(EmployerPart):
    """The massage establishment the practitioner works in: its name and credit code."""


class BlindMassageForm(_Strict):
    """A blind massage practitioner's yearly claim (盲人按摩从业人员社会保险补贴): the insurance paid last year."""

    program: Literal["blind_massage_insurance_subsidy"]
    applicant: ApplicantPart
    year: Annotated[int, Field(ge=2000, le=2100, description="the calendar year claimed: the previous year")]
    insurance_paid: Annotated[MoneyText, Field(description="the social insurance paid for that year, more than 0.00")]
    workplace: WorkplacePart
    bank_account: Annotated[
        str,
        Field(
            max_length=90,
            description="8 to 30 digits; full-width digits, spaces and hyphens are accepted and dropped",
            json_schema_extra={"pattern": BANK_ACCOUNT_PATTERN},
        ),
    ]

    @field_validator("bank_account")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        value = normalize_identifier(value)
        if not re.fullmatch(r"[0-9]{8,30}", value):
            raise _refuse("bank_account_format", "enter the bank account number: 8 to 30 digits")
        return value

    @property
    def applied_to_county(self) -> str:
        return self.applicant.hukou_county

    @property
    def disability_category(self) -> int:
        return int(self.applicant.disability_cert_number[18])

    def paid(self) -> Decimal:
        return to_money(self.insurance_paid)
