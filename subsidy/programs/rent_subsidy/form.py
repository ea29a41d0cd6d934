"""The rent subsidy form (program R): what an applicant submits, validated field by field.

The same model checks the JSON API body and, later, the HTML form, so a rule is written once. Identifier
fields accept what people type (lower-case x, full-width digits) and store the normalised form.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from subsidy.forms.text import PlainLine, VisibleLetters
from subsidy.policy.ages import MIN_WORKING_AGE, age_refusal
from subsidy.policy.identifiers import (
    CREDIT_CODE_ALPHABET,
    IdentifierError,
    normalize_identifier,
    validate_credit_code,
    validate_disability_cert,
    validate_resident_id,
)
from subsidy.policy.money import MONEY_TEXT_PATTERN, parse_money_text, to_money
from subsidy.policy.workdays import china_today
from subsidy.workflows.contracts import RentFactsMessage

EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# [0-9], not \d: other scripts' digits are digits to `\d` and `int()`, and no date is typed in them.
_DATE_TEXT = re.compile(r"^\s*([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?\s*$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), PlainLine, VisibleLetters]
# The patterns below admit each identifier as people type it — ASCII or full-width (Chinese input methods) digits and
# letters, lower case, spaces and hyphens between the characters — which the validators store in canonical form
# (the ASCII capitals and digits alone). Rules that no pattern can state are in each field's description.


def _wide(ascii_characters: str) -> str:
    """A regex character class of the characters given and their full-width forms."""
    return "[" + "".join(ch + chr(ord(ch) + 0xFEE0) for ch in ascii_characters) + "]"


_SEP = "[\\s\\-\uff0d]*"
_DIGIT = _wide("0123456789")


def _typed(*parts: tuple[str, str]) -> str:
    """A pattern of character classes, each with its repetition ("{17}", "{0,22}"), separators anywhere."""
    return "^" + _SEP + "".join(f"(?:{cls}{_SEP}){count}" for cls, count in parts) + "$"


TYPED = (
    "; typed as people do: ASCII or full-width characters, lower-case letters, spaces and hyphens, stored"
    " normalised (capitals and digits alone)"
)
_ID = ((_DIGIT, "{17}"), (_wide("0123456789Xx"), ""))
RESIDENT_ID_PATTERN = _typed(*_ID)
CERT_PATTERN = _typed(*_ID, (_wide("1234567"), ""), (_wide("1234"), ""))
_CODE_CHARACTER = _wide(CREDIT_CODE_ALPHABET + CREDIT_CODE_ALPHABET[10:].lower())
CREDIT_CODE_PATTERN = _typed((_CODE_CHARACTER, "{2}"), (_DIGIT, "{6}"), (_CODE_CHARACTER, "{10}"))
MONEY_PATTERN = MONEY_TEXT_PATTERN
COUNTY_PATTERN = "^" + _DIGIT + "{6}$"
PHONE_PATTERN = "^[+\uff0b]?" + _DIGIT + "[" + _DIGIT[1:-1] + " \u3000\\-\uff0d]{6,19}$"
BANK_ACCOUNT_PATTERN = _typed((_DIGIT, "{8,30}"))
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ResidentIdText = Annotated[
    str,
    Field(
        description="18-character resident ID (GB 11643-1999): a region code of GB/T 2260 (any revision since 1980),"
        " a birth date that is a real day and not in the future, a sequence, and a check character that is a digit"
        " or X (ISO 7064 MOD 11-2)" + TYPED,
        examples=["11010519491231002X"],
        max_length=60,
        json_schema_extra={"pattern": RESIDENT_ID_PATTERN},
    ),
]
CertText = Annotated[
    str,
    Field(
        description="20-character disability certificate number: the holder's resident ID (the same rules, and the"
        " same person as the form's id_number) + category 1-7 + grade 1-4" + TYPED,
        examples=["11010519491231002X42"],
        max_length=60,
        json_schema_extra={"pattern": CERT_PATTERN},
    ),
]
CreditCodeText = Annotated[
    str,
    Field(
        description="18-character unified social credit code (GB 32100-2015) whose 18th character is its check"
        " character (MOD 31)" + TYPED,
        examples=["91350100M000100Y43"],
        max_length=60,
        json_schema_extra={"pattern": CREDIT_CODE_PATTERN},
    ),
]


def money_text(value: str) -> str:
    try:
        amount = parse_money_text(value)
    except (ValueError, ArithmeticError):
        raise _refuse("money_format", "enter an amount in CNY with at most two decimals, e.g. 1200.00") from None
    if amount <= 0:
        raise _refuse("money_range", "enter an amount more than 0.00 and less than 10000000.00")
    return str(amount)


MoneyText = Annotated[
    str,
    Field(
        description="CNY, more than 0.00: 1 to 7 digits and at most two decimals, ASCII or full-width; no sign,"
        " exponent, group separator or other scripts' digits; surrounding spaces are ignored",
        examples=["1200.00"],
        max_length=20,
        json_schema_extra={"pattern": MONEY_PATTERN},
    ),
    AfterValidator(lambda value: money_text(value)),
]


def _refuse(code: str, message: str) -> PydanticCustomError:
    """A field error whose type is a stable code: the pages translate it, the API shows the message."""
    return PydanticCustomError(code, message)


# Full-width digits and separators, as Chinese input methods type them, and the ideographic space.
_FULL_WIDTH_DATE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def refuse_at(
    model: str, loc: tuple[str | int, ...], code: str, message: str, context: dict[str, object] | None = None
) -> ValidationError:
    """A refusal of a model validator that names the field it is about, as a field validator's would."""
    error = PydanticCustomError(code, message, context)
    return ValidationError.from_exception_data(model, [InitErrorDetails(type=error, loc=loc, input=None)])


def parse_form_date(value: object) -> object:
    """Accept what people type: 2025-03-15, 2025/3/15, 2025年3月15日, full-width digits."""
    if not isinstance(value, str):
        return value
    match = _DATE_TEXT.match(value.translate(_FULL_WIDTH_DATE))
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


def _not_in_future(value: date) -> date:
    if value > china_today():
        raise _refuse("date_in_future", "this date cannot be in the future")
    return value


# A date that has happened: a business's licence and start of operations.
PastDate = Annotated[
    date,
    BeforeValidator(parse_form_date),
    AfterValidator(_in_range),
    AfterValidator(_not_in_future),
    Field(description="not after today (China time)"),
]
_FULL_WIDTH_DIGITS = {0xFF10 + digit: ord("0") + digit for digit in range(10)}


def _county(value: str) -> str:
    value = value.translate(_FULL_WIDTH_DIGITS).strip()
    # [0-9], not \d: other scripts' digits (Arabic-Indic, say) are digits too, but not a GB/T 2260 code.
    if not re.fullmatch(r"[0-9]{6}", value):
        raise _refuse("county_format", "a county is a 6-digit GB/T 2260 code, e.g. 150203")
    return value


CountyCode = Annotated[
    str,
    AfterValidator(_county),
    Field(
        description="6-digit GB/T 2260 county code (ASCII or full-width digits)",
        examples=["150203"],
        json_schema_extra={"pattern": COUNTY_PATTERN},
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantPart(_Strict):
    name: Name
    id_number: ResidentIdText
    disability_cert_number: CertText
    hukou_county: CountyCode
    phone: Annotated[
        str,
        Field(
            max_length=40,
            description="7 to 20 digits, spaces and hyphens, an optional leading +; full-width forms are accepted",
            json_schema_extra={"pattern": PHONE_PATTERN},
        ),
    ]

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return validate_resident_id(value, on=china_today()).number
        except IdentifierError as error:
            raise _refuse(error.code, error.message) from None

    @field_validator("disability_cert_number")
    @classmethod
    def _cert_matches_id(cls, value: str, info: ValidationInfo) -> str:
        try:
            return validate_disability_cert(value, info.data.get("id_number"), on=china_today()).number
        except IdentifierError as error:
            raise _refuse(error.code, error.message) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        value = value.translate(_FULL_WIDTH_DATE).strip()
        if not re.fullmatch(r"\+?[0-9][0-9 -]{6,19}", value):
            raise _refuse("phone_format", "enter a phone number of 7 to 20 digits")
        return value


class BusinessPart(_Strict):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), PlainLine, VisibleLetters
    ]
    credit_code: CreditCodeText
    license_date: PastDate
    business_type: Literal["general", "blind_massage"]
    started_on: PastDate

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

    @model_validator(mode="after")
    def _owner_of_working_age(self) -> RentSubsidyForm:
        born = validate_resident_id(self.applicant.id_number).birth_date
        refusal = age_refusal(born, self.business.license_date, minimum=MIN_WORKING_AGE)
        if refusal is not None:
            raise refuse_at(
                "RentSubsidyForm",
                ("applicant", "id_number"),
                refusal,
                "the business owner must be at least {minimum} years old on the licence date",
                {"minimum": MIN_WORKING_AGE},
            )
        return self

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
