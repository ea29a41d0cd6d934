"""The forms of program P and of the flexible-employment insurance subsidy, validated field by field.

As with the rent subsidy, one model checks the JSON body and the HTML form, using the rent form's field types
(dates as people type them, county codes, money text, identifiers through the policy validators). Facts that the
identifiers already state (a person's sex and birth date, the severity of the disability) must agree with them.
Refusals carry stable error codes that the pages translate; messages never repeat an ID number.
"""

from __future__ import annotations

from datetime import date
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
    model_validator,
)
from pydantic_core import PydanticCustomError

from subsidy.forms.text import PlainLine, PlainText, VisibleLetters
from subsidy.policy.ages import MIN_WORKING_AGE, age_refusal
from subsidy.policy.identifiers import (
    IdentifierError,
    validate_credit_code,
    validate_disability_cert,
    validate_resident_id,
)
from subsidy.policy.money import to_money
from subsidy.policy.workdays import china_today
from subsidy.programs.public_welfare.contracts import PostMessage
from subsidy.programs.rent_subsidy.form import (
    UUID_PATTERN,
    CertText,
    CountyCode,
    CreditCodeText,
    FormDate,
    MoneyText,
    Name,
    ResidentIdText,
    money_text,
    parse_form_date,
    refuse_at,
)

# Disability grades 1 and 2 are "severe" (重度残疾) in China's classification.
SEVERE_GRADES = (1, 2)


def _born_in_range(value: date) -> date:
    if not date(1900, 1, 1) <= value <= date(2100, 12, 31):
        raise PydanticCustomError("date_range", "enter a birth date between 1900-01-01 and 2100-12-31")
    return value


# Typed as people type dates, like FormDate, but reaching back further: the people concerned were born before 1990.
BirthDate = Annotated[
    date,
    BeforeValidator(parse_form_date),
    AfterValidator(_born_in_range),
    Field(description="the birth date inside the resident ID number (so not in the future)"),
]


def _of_working_age(model: str, person: PersonPart, day: date) -> None:
    """The person is at least MIN_WORKING_AGE on the day the placement or the insured employment starts."""
    refusal = age_refusal(person.birth_date, day, minimum=MIN_WORKING_AGE)
    if refusal is not None:
        raise refuse_at(
            model,
            ("person", "birth_date"),
            refusal,
            "the person must be at least {minimum} years old on the start date",
            {"minimum": MIN_WORKING_AGE},
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmployerPart(_Strict):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), PlainLine, VisibleLetters
    ]
    credit_code: CreditCodeText

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        try:
            return validate_credit_code(value)
        except IdentifierError as error:
            raise PydanticCustomError(error.code, error.message) from None


class PostPart(_Strict):
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), PlainLine, VisibleLetters
    ]
    category: Literal["public_service", "professional_technical"]
    count: Annotated[int, Field(ge=1, le=1000, description="how many people the post takes at the same time")]
    monthly_wage: MoneyText

    @field_validator("monthly_wage")
    @classmethod
    def _money(cls, value: str) -> str:
        return money_text(value)


class PublicWelfarePostForm(_Strict):
    """An employer's yearly declaration of public-welfare posts (公益性岗位申报) to one county."""

    program: Literal["public_welfare_post"]
    employer: EmployerPart
    county: CountyCode
    year: Annotated[int, Field(ge=2000, le=2100)]
    posts: Annotated[list[PostPart], Field(min_length=1, max_length=50)]

    def post_messages(self) -> list[PostMessage]:
        return [
            PostMessage(
                number=number,
                title=post.title,
                category=post.category,
                places=post.count,
                monthly_wage=to_money(post.monthly_wage),
            )
            for number, post in enumerate(self.posts, start=1)
        ]


class PersonPart(_Strict):
    """The person concerned. Sex and birth date must be those inside the resident ID."""

    name: Name
    id_number: ResidentIdText
    disability_cert_number: CertText
    sex: Literal["M", "F"]
    birth_date: BirthDate
    severe_disability: bool = False
    special_hardship: bool = False
    retirement_category: Literal["female_50", "female_55"] | None = Field(
        default=None,
        description="a woman's statutory retirement baseline: female_50 (workers) or female_55 (cadres); "
        "when absent, the policy version's default applies",
    )

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

    @field_validator("sex")
    @classmethod
    def _sex_of_the_id(cls, value: str, info: ValidationInfo) -> str:
        id_number = info.data.get("id_number")
        if id_number is not None and validate_resident_id(id_number).sex != value:
            raise PydanticCustomError("sex_mismatch", "the sex does not match the resident ID number")
        return value

    @field_validator("birth_date")
    @classmethod
    def _birth_date_of_the_id(cls, value: date, info: ValidationInfo) -> date:
        id_number = info.data.get("id_number")
        if id_number is not None and validate_resident_id(id_number).birth_date != value:
            raise PydanticCustomError("birth_date_mismatch", "the birth date does not match the resident ID number")
        return value

    @field_validator("severe_disability")
    @classmethod
    def _severity_of_the_certificate(cls, value: bool, info: ValidationInfo) -> bool:
        cert = info.data.get("disability_cert_number")
        if cert is not None and value != (int(cert[19]) in SEVERE_GRADES):
            raise PydanticCustomError(
                "severity_mismatch", "severe disability means a grade 1 or 2 certificate, and only that"
            )
        return value

    @field_validator("retirement_category")
    @classmethod
    def _women_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("sex") == "M":
            raise PydanticCustomError("retirement_category_for_women", "the retirement category applies to women only")
        return value


class PublicWelfarePlacementForm(_Strict):
    """An employer proposes a person for one of its approved posts (公益性岗位安置)."""

    program: Literal["public_welfare_placement"]
    post_application_id: Annotated[
        str,
        Field(
            description="the id of the approved post declaration (a UUID)",
            max_length=64,
            json_schema_extra={"pattern": UUID_PATTERN},
        ),
    ]
    post_number: Annotated[int, Field(ge=1, le=50, description="which post of the declaration, from 1")] = 1
    person: PersonPart
    start_date: Annotated[FormDate, Field(description="the person is at least 16 years old on this day")]
    override_reason: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=2000),
            PlainText,
            Field(description="asks the City DPF to lift the placement cap (a third placement): the written reason"),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _person_of_working_age(self) -> PublicWelfarePlacementForm:
        _of_working_age("PublicWelfarePlacementForm", self.person, self.start_date)
        return self


class FlexibleInsuranceForm(_Strict):
    """A person's application for the flexible-employment social insurance subsidy (灵活就业人员社会保险补贴)."""

    program: Literal["flexible_employment_insurance_subsidy"]
    county: CountyCode | None = Field(
        default=None, description="the County HR bureau applied to; defaults to the resident ID's region code"
    )
    person: PersonPart
    start_date: Annotated[FormDate, Field(description="the person is at least 16 years old on this day")]

    @model_validator(mode="after")
    def _person_of_working_age(self) -> FlexibleInsuranceForm:
        _of_working_age("FlexibleInsuranceForm", self.person, self.start_date)
        return self

    @property
    def applied_to_county(self) -> str:
        return self.county or self.person.id_number[:6]


class PostCollectionForm(_Strict):
    """What the County DPF's yearly collection row stores; nobody submits it (declarations open it)."""

    program: Literal["public_welfare_post_collection"]
    county: CountyCode
    year: int
