"""The rent subsidy form (program R): what an applicant submits, validated field by field.

The same model checks the JSON API body and, later, the HTML form, so a rule is written once. Identifier
fields accept what people type (lower-case x, full-width digits) and store the normalised form.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from subsidy.forms.text import PlainLine
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
_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), PlainLine]
# The patterns below describe each identifier in its canonical form, for the OpenAPI document and those who generate
# requests from it; the validators also accept what people type (full-width digits, spaces, hyphens, lower-case x)
# and store the canonical form, so the patterns are documentation, not an extra rule.
TYPED = "; full-width digits, spaces, hyphens and a lower-case x are accepted and normalised"
RESIDENT_ID_PATTERN = r"^[0-9]{17}[0-9X]$"
CERT_PATTERN = r"^[0-9]{17}[0-9X][1-7][1-4]$"
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
MONEY_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"
COUNTY_PATTERN = r"^[0-9]{6}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ResidentIdText = Annotated[
    str,
    Field(
        description="18-character resident ID; the last character is a digit or X (ISO 7064 MOD 11-2)" + TYPED,
        examples=["11010519491231002X"],
        max_length=40,
        json_schema_extra={"pattern": RESIDENT_ID_PATTERN},
    ),
]
CertText = Annotated[
    str,
    Field(
        description="20-character disability certificate number: the resident ID + category 1-7 + grade 1-4" + TYPED,
        examples=["11010519491231002X42"],
        max_length=40,
        json_schema_extra={"pattern": CERT_PATTERN},
    ),
]
CreditCodeText = Annotated[
    str,
    Field(
        description="18-character unified social credit code (GB 32100-2015)" + TYPED,
        examples=["91350100M000100Y43"],
        max_length=40,
        json_schema_extra={"pattern": CREDIT_CODE_PATTERN},
    ),
]
MoneyText = Annotated[
    str,
    Field(
        description="CNY with at most two decimals",
        examples=["1200.00"],
        max_length=20,
        json_schema_extra={"pattern": MONEY_PATTERN},
    ),
]


def _refuse(code: str, message: str) -> PydanticCustomError:
    """A field error whose type is a stable code: the pages translate it, the API shows the message."""
    return PydanticCustomError(code, message)


def parse_form_date(value: object) -> object:
    """Accept what people type: 2025-03-15, 2025/3/15, 2025年3月15日, full-width digits."""
    if not isinstance(value, str):
        return value
    match = _DATE_TEXT.match(unicodedata.normalize("NFKC", value))
    if match is None:
        raise _refuse("date_format", "enter a date as YYYY-MM-DD, for example 2025-03-15")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _refuse("date_format", "this date does not exist") from None


def _in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _refuse("date_range", f"enter a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}")
    return value


FormDate = Annotated[date, BeforeValidator(parse_form_date), AfterValidator(_in_range)]


def _county(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    # [0-9], not \d: other scripts' digits (Arabic-Indic, say) are digits too, but not a GB/T 2260 code.
    if not re.fullmatch(r"[0-9]{6}", value):
        raise _refuse("county_format", "a county is a 6-digit GB/T 2260 code, e.g. 150203")
    return value


CountyCode = Annotated[
    str,
    AfterValidator(_county),
    Field(
        description="6-digit GB/T 2260 county code",
        examples=["150203"],
        json_schema_extra={"pattern": COUNTY_PATTERN},
    ),
]


def money_text(value: str) -> str:
    try:
        amount = to_money(unicodedata.normalize("NFKC", value).replace(",", "").strip())
    except (ValueError, ArithmeticError):
        raise _refuse("money_format", "enter an amount in CNY with at most two decimals, e.g. 1200.00") from None
    if amount <= 0 or amount > Decimal("9999999.99"):
        raise _refuse("money_range", "enter an amount more than 0.00 and less than 10000000.00")
    return str(amount)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantPart(_Strict):
    name: Name
    id_number: ResidentIdText
    disability_cert_number: CertText
    hukou_county: CountyCode
    phone: Annotated[str, Field(max_length=40, json_schema_extra={"pattern": r"^\+?[0-9][0-9 -]{6,19}$"})]

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return validate_resident_id(value).number
        except IdentifierError as error:
            raise _refuse(error.code, error.message) from None

    @field_validator("disability_cert_number")
    @classmethod
    def _cert_matches_id(cls, value: str, info: ValidationInfo) -> str:
        try:
            return validate_disability_cert(value, info.data.get("id_number")).number
        except IdentifierError as error:
            raise _refuse(error.code, error.message) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        value = unicodedata.normalize("NFKC", value).strip()
        if not re.fullmatch(r"\+?[0-9][0-9 -]{6,19}", value):
            raise _refuse("phone_format", "enter a phone number of 7 to 20 digits")
        return value


class BusinessPart(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), PlainLine]
    credit_code: CreditCodeText
    license_date: FormDate
    business_type: Literal["general", "blind_massage"]
    started_on: FormDate

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        try:
            return validate_credit_code(value)
        except IdentifierError as error:
            raise _refuse(error.code, error.message) from None


class LeasePart(_Strict):
    monthly_rent: MoneyText
    start_date: FormDate
    end_date: FormDate

    @field_validator("monthly_rent")
    @classmethod
    def _money(cls, value: str) -> str:
        return money_text(value)

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise _refuse("lease_order", "the lease must end on or after its start date")
        return value


class RentSubsidyForm(_Strict):
    program: Literal["rent_subsidy"]
    county: CountyCode | None = Field(
        default=None,
        description="the County DPF applied to; defaults to the applicant's household registration",
    )
    applicant: ApplicantPart
    business: BusinessPart
    lease: LeasePart
    bank_account: Annotated[str, Field(max_length=60, json_schema_extra={"pattern": r"^[0-9]{8,30}$"})]

    @field_validator("bank_account")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        value = normalize_identifier(value)
        if not re.fullmatch(r"[0-9]{8,30}", value):
            raise _refuse("bank_account_format", "enter the bank account number: 8 to 30 digits")
        return value

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
