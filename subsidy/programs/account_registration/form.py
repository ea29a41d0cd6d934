"""Registering an account: whom it will act for, checked field by field before the County DPF verifies it.

`RegistrationIn` is the body of `POST /api/v1/registrations` (with the password); `RegistrationRecord` is what the
registration's application row keeps (everything but the password), and what the County DPF's task shows.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from subsidy.forms.text import PlainLine
from subsidy.policy.counties import BAOTOU_COUNTIES
from subsidy.policy.identifiers import (
    IdentifierError,
    validate_credit_code,
    validate_disability_cert,
    validate_resident_id,
)
from subsidy.programs.rent_subsidy.form import CertText, CountyCode, CreditCodeText, ResidentIdText, _Strict

# Lower case only: "Applicant-A" must not be a second account beside "applicant-a".
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"
PASSWORD_MIN = 10
PASSWORD_MAX = 128
Kind = Literal["person", "employer", "provider", "agency"]


class RegistrationRecord(_Strict):
    program: Literal["account_registration"] = "account_registration"
    username: Annotated[str, Field(max_length=64, json_schema_extra={"pattern": USERNAME_PATTERN})]
    kind: Kind = Field(description="person (an applicant), or an organisation: employer, provider, agency")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), PlainLine]
    id_number: ResidentIdText | None = Field(default=None, description="a person's resident ID (kind person only)")
    disability_cert_number: CertText | None = Field(
        default=None, description="a person's disability certificate number (kind person only)"
    )
    credit_code: CreditCodeText | None = Field(
        default=None, description="an organisation's unified social credit code (kinds employer, provider, agency)"
    )
    phone: Annotated[str, Field(max_length=40, json_schema_extra={"pattern": r"^\+?[0-9][0-9 -]{6,19}$"})]
    county: CountyCode = Field(description="the county whose Disabled Persons' Federation verifies the account")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not re.fullmatch(USERNAME_PATTERN, value):
            raise PydanticCustomError(
                "username_format",
                "3 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            )
        return value

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        try:
            return None if value is None else validate_resident_id(value).number
        except IdentifierError as error:
            raise PydanticCustomError(error.code, error.message) from None

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str | None) -> str | None:
        try:
            return None if value is None else validate_credit_code(value)
        except IdentifierError as error:
            raise PydanticCustomError(error.code, error.message) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        value = unicodedata.normalize("NFKC", value).strip()
        if not re.fullmatch(r"\+?[0-9][0-9 -]{6,19}", value):
            raise PydanticCustomError("phone_format", "enter a phone number of 7 to 20 digits")
        return value

    @field_validator("county")
    @classmethod
    def _baotou(cls, value: str) -> str:
        if value not in BAOTOU_COUNTIES:
            raise PydanticCustomError("county_unknown", "not a county, district or banner of Baotou")
        return value

    @model_validator(mode="after")
    def _identifier_of_the_kind(self) -> RegistrationRecord:
        if self.kind == "person":
            if self.id_number is None or self.disability_cert_number is None or self.credit_code is not None:
                raise PydanticCustomError(
                    "person_identifiers",
                    "a person registers with id_number and disability_cert_number, and no credit_code",
                )
            try:
                self.disability_cert_number = validate_disability_cert(
                    self.disability_cert_number, self.id_number
                ).number
            except IdentifierError as error:
                raise PydanticCustomError(error.code, error.message) from None
        elif self.credit_code is None or self.id_number is not None or self.disability_cert_number is not None:
            raise PydanticCustomError(
                "organisation_identifiers", "an organisation registers with credit_code, and no id_number"
            )
        return self

    @property
    def identifier(self) -> str:
        found = self.id_number if self.kind == "person" else self.credit_code
        assert found is not None
        return found


class RegistrationIn(RegistrationRecord):
    """The registration as sent: the record and the password (kept only as an argon2 hash)."""

    program: Literal["account_registration"] = Field(default="account_registration", exclude=True)
    password: Annotated[
        str,
        Field(
            min_length=PASSWORD_MIN,
            max_length=PASSWORD_MAX,
            description="at least 10 characters, and hard to guess (zxcvbn score 3 or more)",
        ),
    ]

    def record(self) -> RegistrationRecord:
        return RegistrationRecord.model_validate(self.model_dump(exclude={"password"}))
