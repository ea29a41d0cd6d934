"""The rent subsidy form (program R): what an applicant submits, validated field by field.

The same model checks the JSON API body and, later, the HTML form, so a rule is written once. Identifier
fields accept what people type (lower-case x, full-width digits) and store the normalised form.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from subsidy.policy.identifiers import (
    IdentifierError,
    normalize_identifier,
    validate_credit_code,
    validate_disability_cert,
    validate_resident_id,
)
from subsidy.policy.money import to_money
from subsidy.workflows.contracts import RentFactsMessage

EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
CountyCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
ResidentIdText = Annotated[
    str,
    Field(
        description="18-character resident ID; the last character is a digit or X (ISO 7064 MOD 11-2)",
        examples=["11010519491231002X"],
        max_length=40,
    ),
]
CertText = Annotated[
    str,
    Field(
        description="20-character disability certificate number: the resident ID + category 1-7 + grade 1-4",
        examples=["11010519491231002X42"],
        max_length=40,
    ),
]
CreditCodeText = Annotated[
    str,
    Field(
        description="18-character unified social credit code (GB 32100-2015)",
        examples=["91350100M000100Y43"],
        max_length=40,
    ),
]
MoneyText = Annotated[str, Field(description="CNY with at most two decimals", examples=["1200.00"], max_length=20)]


def _in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"date must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantPart(_Strict):
    name: Name
    id_number: ResidentIdText
    disability_cert_number: CertText
    hukou_county: CountyCode
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{6,19}$")]

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return validate_resident_id(value).number
        except IdentifierError as error:
            raise ValueError(error.message) from None

    @model_validator(mode="after")
    def _cert_matches_id(self) -> ApplicantPart:
        try:
            cert = validate_disability_cert(self.disability_cert_number, self.id_number)
        except IdentifierError as error:
            raise ValueError(f"disability_cert_number: {error.message}") from None
        self.disability_cert_number = cert.number
        return self


class BusinessPart(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    credit_code: CreditCodeText
    license_date: date
    business_type: Literal["general", "blind_massage"]
    started_on: date

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        try:
            return validate_credit_code(value)
        except IdentifierError as error:
            raise ValueError(error.message) from None

    @field_validator("license_date", "started_on")
    @classmethod
    def _dates(cls, value: date) -> date:
        return _in_range(value)


class LeasePart(_Strict):
    monthly_rent: MoneyText
    start_date: date
    end_date: date

    @field_validator("monthly_rent")
    @classmethod
    def _money(cls, value: str) -> str:
        try:
            amount = to_money(value)
        except (ValueError, ArithmeticError):
            raise ValueError("monthly rent must be an amount in CNY with at most two decimals, e.g. 1200.00") from None
        if amount <= 0 or amount > Decimal("9999999.99"):
            raise ValueError("monthly rent must be more than 0.00 and less than 10000000.00")
        return str(amount)

    @field_validator("start_date", "end_date")
    @classmethod
    def _dates(cls, value: date) -> date:
        return _in_range(value)

    @model_validator(mode="after")
    def _ordered(self) -> LeasePart:
        if self.end_date < self.start_date:
            raise ValueError("end_date: the lease must end on or after its start date")
        return self


class RentSubsidyForm(_Strict):
    program: Literal["rent_subsidy"]
    county: CountyCode | None = Field(
        default=None,
        description="the County DPF applied to; defaults to the applicant's household registration",
    )
    applicant: ApplicantPart
    business: BusinessPart
    lease: LeasePart
    bank_account: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,30}$")]

    @field_validator("bank_account", mode="before")
    @classmethod
    def _digits_only(cls, value: object) -> object:
        return normalize_identifier(value) if isinstance(value, str) else value

    @property
    def applied_to_county(self) -> str:
        return self.county or self.applicant.hukou_county

    def facts(self) -> RentFactsMessage:
        return RentFactsMessage(
            hukou_county=self.applicant.hukou_county,
            applied_to_county=self.applied_to_county,
            business_type=self.business.business_type,
            license_date=self.business.license_date,
            started_on=self.business.started_on,
            lease_start=self.lease.start_date,
            lease_end=self.lease.end_date,
            monthly_rent=to_money(self.lease.monthly_rent),
        )


class RentCorrection(_Strict):
    """What a `corrected` event may change after `returned`: the facts, never who applied."""

    hukou_county: CountyCode | None = None
    business: BusinessPart | None = None
    lease: LeasePart | None = None


def corrected_rent_facts(stored_form: dict[str, object], correction: RentCorrection) -> RentFactsMessage:
    """Merge a correction into the stored form and validate the whole again: a correction is a new form."""
    form = dict(stored_form)
    if correction.hukou_county is not None:
        form["applicant"] = {**form["applicant"], "hukou_county": correction.hukou_county}  # type: ignore[dict-item]
    if correction.business is not None:
        form["business"] = correction.business.model_dump(mode="json")
    if correction.lease is not None:
        form["lease"] = correction.lease.model_dump(mode="json")
    return RentSubsidyForm.model_validate(form).facts()
