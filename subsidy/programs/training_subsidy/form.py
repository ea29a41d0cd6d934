"""The training subsidy class plan (program T): what a training provider submits, validated field by field.

The same model checks the JSON API body and the HTML form. It uses the rent form's field types (dates as
people type them, county codes, money text, resident ID and certificate numbers that accept lower-case x and
full-width digits), and refuses with stable error codes that the pages translate. Error messages name
trainees by their line in the list, never by ID number.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from subsidy.forms.text import PlainLine, VisibleLetters
from subsidy.policy.ages import MAX_TRAINEE_AGE, MIN_WORKING_AGE, age_refusal
from subsidy.policy.identifiers import IdentifierError, validate_disability_cert, validate_resident_id
from subsidy.policy.money import to_money
from subsidy.policy.workdays import china_today
from subsidy.programs.public_welfare.form import EmployerPart
from subsidy.programs.rent_subsidy.form import (
    CertText,
    CountyCode,
    FormDate,
    MoneyText,
    Name,
    ResidentIdText,
    money_text,
    refuse_at,
)
from subsidy.programs.training_subsidy.contracts import CourseMessage

MAX_TRAINEES = 200
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), PlainLine, VisibleLetters
]


def _catalogue_text(value: str) -> str:
    """Course codes and levels as people type them, in one form: the limits compare them for equality."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CoursePart(_Strict):
    code: Annotated[
        str,
        PlainLine,
        Field(
            min_length=1,
            max_length=32,
            description="the course's code; the same code and level is subsidised once a year per person",
            examples=["4-10-04-01"],
        ),
    ]
    title: Title
    level: Annotated[str, PlainLine, Field(min_length=1, max_length=32, examples=["初级"])]
    kind: Literal["vocational", "rural_practical"]
    start_date: FormDate
    end_date: FormDate
    class_days: Annotated[int, Field(ge=1, le=366)]
    class_hours: Annotated[int, Field(ge=1, le=5000)]

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return _catalogue_text(value).upper()

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        return _catalogue_text(value)

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise PydanticCustomError("course_order", "the course must end on or after its start date")
        return value

    @field_validator("class_days")
    @classmethod
    def _days_fit_dates(cls, value: int, info: ValidationInfo) -> int:
        start, end = info.data.get("start_date"), info.data.get("end_date")
        if start is not None and end is not None and value > (end - start).days + 1:
            raise PydanticCustomError("class_days_range", "a course cannot have more class days than calendar days")
        return value


class TraineePart(_Strict):
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


class TrainingSubsidyForm(_Strict):
    program: Literal["training_subsidy"]
    county: CountyCode = Field(description="the county whose DPF approves and co-funds the class")
    course: CoursePart
    trainees: Annotated[
        list[TraineePart],
        Field(
            min_length=1,
            max_length=MAX_TRAINEES,
            description=f"each person once, of working age on the course's first day: {MIN_WORKING_AGE} or older and"
            f" younger than {MAX_TRAINEE_AGE}",
        ),
    ]
    planned_cost: MoneyText
    provider: EmployerPart | None = Field(
        default=None, description="the training provider; when given, it must be the one the account is bound to"
    )

    @field_validator("planned_cost")
    @classmethod
    def _money(cls, value: str) -> str:
        return money_text(value)

    @field_validator("trainees")
    @classmethod
    def _each_person_once(cls, trainees: list[TraineePart]) -> list[TraineePart]:
        first_line: dict[str, int] = {}
        for line, trainee in enumerate(trainees, start=1):
            earlier = first_line.setdefault(trainee.id_number, line)
            if earlier != line:
                raise PydanticCustomError(
                    "trainee_duplicate",
                    "trainee {line} is the same person as trainee {earlier}: list each person once",
                    {"line": line, "earlier": earlier},
                )
        return trainees

    @model_validator(mode="after")
    def _trainees_of_working_age(self) -> TrainingSubsidyForm:
        for index, trainee in enumerate(self.trainees):
            born = validate_resident_id(trainee.id_number).birth_date
            refusal = age_refusal(born, self.course.start_date, minimum=MIN_WORKING_AGE, maximum=MAX_TRAINEE_AGE)
            if refusal is not None:
                raise refuse_at(
                    "TrainingSubsidyForm",
                    ("trainees", index, "id_number"),
                    refusal,
                    "trainee {line} is not of working age on the course's first day"
                    " ({minimum} or older and younger than {maximum})",
                    {"line": index + 1, "minimum": MIN_WORKING_AGE, "maximum": MAX_TRAINEE_AGE},
                )
        return self

    def course_message(self) -> CourseMessage:
        course = self.course
        return CourseMessage(
            code=course.code,
            title=course.title,
            level=course.level,
            kind=course.kind,
            start_date=course.start_date,
            end_date=course.end_date,
            class_days=course.class_days,
            class_hours=course.class_hours,
        )

    def planned_amount(self) -> Decimal:
        return to_money(self.planned_cost)

    def line_of(self, id_number: str) -> int | None:
        """The trainee's line (0-based) in the plan, found by a normalised resident ID number."""
        return next((line for line, t in enumerate(self.trainees) if t.id_number == id_number), None)
