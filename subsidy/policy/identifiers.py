"""Identifiers the forms accept.

Resident ID, second-generation disability certificate number, unified social credit code.

Error messages never contain the number itself: they end up in logs, task summaries and audit records,
and a resident ID is personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from subsidy.policy.regions import is_region_code

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "DISABILITY_CATEGORIES",
    "DISABILITY_GRADES",
    "DisabilityCertificate",
    "IdentifierError",
    "ResidentId",
    "credit_code_check_character",
    "normalize_identifier",
    "resident_id_check_character",
    "validate_credit_code",
    "validate_disability_cert",
    "validate_resident_id",
]


class IdentifierError(ValueError):
    """An identifier that fails validation; `code` is for machines, `message` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"IdentifierError(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[type[IdentifierError], tuple[str, str]]:
        # The default would call the class with the message alone; errors may cross process boundaries.
        return (type(self), (self.code, self.message))


# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARACTERS = "10X98765432"
# Birth dates before this are certainly typing errors; the standard's own century range starts here.
_EARLIEST_BIRTH_DATE = date(1900, 1, 1)

DISABILITY_CATEGORIES: dict[int, str] = {
    1: "visual",
    2: "hearing",
    3: "speech",
    4: "physical",
    5: "intellectual",
    6: "mental",
    7: "multiple",
}
# Grade 1 is the most severe.
DISABILITY_GRADES: tuple[int, ...] = (1, 2, 3, 4)

# GB 32100-2015: the 31 characters of the code, without I, O, S, V, Z (too easily confused).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# Full-width forms (U+FF01-FF5E, as Chinese input methods type them) mapped to ASCII. Only these: NFKC would also
# turn circled digits, superscripts or Roman numerals into digits and letters, and no identifier is typed that way.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def normalize_identifier(raw: str) -> str:
    """What people type (full-width digits and letters, spaces, hyphens, lower-case letters) in canonical form."""
    # Spaces of any kind (the ideographic one too) and hyphens, which people put between groups, are dropped.
    text = raw.translate(_FULL_WIDTH)
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()


def resident_id_check_character(first17: str) -> str:
    """The 18th character of a resident ID whose first 17 characters are given."""
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError("the check character is computed from exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True)
class ResidentId:
    number: str
    region_code: str
    birth_date: date
    sex: str  # "M" or "F", from the parity of the 17th digit (odd is male)


def validate_resident_id(raw: str, *, on: date | None = None) -> ResidentId:
    """A resident ID (GB 11643-1999): 6-digit region code, birth date, sequence, check character.

    The region code must be one of GB/T 2260 (`regions.py`: every code any revision has had, since an ID keeps the
    code of the place that issued it). With `on` (today, for a form being submitted), the birth date must not be
    after it.
    """
    number = normalize_identifier(raw)
    if len(number) != 18:
        raise IdentifierError("id_length", "A resident ID number has 18 characters.")
    if not _is_ascii_digits(number[:17]) or not (_is_ascii_digits(number[17]) or number[17] == "X"):
        raise IdentifierError("id_format", "A resident ID number is 17 digits followed by a digit or the letter X.")
    birth_date = _birth_date(number[6:14])
    if birth_date is None:
        raise IdentifierError("id_birth_date", "The birth date inside the resident ID number is not a valid date.")
    if number[17] != resident_id_check_character(number[:17]):
        raise IdentifierError(
            "id_checksum", "The resident ID number's check character does not match; please check for typos."
        )
    if not is_region_code(number[:6]):
        raise IdentifierError(
            "id_region", "The first six digits of the resident ID number are not a region code of GB/T 2260."
        )
    if on is not None and birth_date > on:
        raise IdentifierError("id_birth_date_future", "The birth date inside the resident ID number is in the future.")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, region_code=number[:6], birth_date=birth_date, sex=sex)


@dataclass(frozen=True)
class DisabilityCertificate:
    number: str
    id_number: str
    category: int  # a key of DISABILITY_CATEGORIES
    grade: int  # 1 (most severe) to 4


def validate_disability_cert(
    raw: str, id_number: str | None = None, *, on: date | None = None
) -> DisabilityCertificate:
    """A second-generation disability certificate number: the holder's 18-character ID, category and grade.

    When `id_number` is given (the ID the applicant typed), the certificate must belong to that person; `on` is
    passed to `validate_resident_id` for the embedded ID.
    """
    number = normalize_identifier(raw)
    if len(number) != 20:
        raise IdentifierError("cert_length", "A disability certificate number has 20 characters.")
    embedded, category_char, grade_char = number[:18], number[18], number[19]
    embedded_shape_ok = _is_ascii_digits(embedded[:17]) and (_is_ascii_digits(embedded[17]) or embedded[17] == "X")
    if not embedded_shape_ok or not _is_ascii_digits(category_char + grade_char):
        raise IdentifierError(
            "cert_format",
            "A disability certificate number is the 18-character resident ID number followed by two digits.",
        )
    try:
        holder = validate_resident_id(embedded, on=on)
    except IdentifierError as error:
        raise IdentifierError(f"cert_{error.code}", f"In the disability certificate number: {error.message}") from None
    category = int(category_char)
    if category not in DISABILITY_CATEGORIES:
        raise IdentifierError(
            "cert_category", "The disability category digit of the certificate number must be 1 to 7."
        )
    grade = int(grade_char)
    if grade not in DISABILITY_GRADES:
        raise IdentifierError("cert_grade", "The disability grade digit of the certificate number must be 1 to 4.")
    if id_number is not None and normalize_identifier(id_number) != holder.number:
        raise IdentifierError(
            "cert_id_mismatch", "The disability certificate does not belong to the given resident ID number."
        )
    return DisabilityCertificate(number=number, id_number=holder.number, category=category, grade=grade)


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    if len(first17) != 17 or any(ch not in CREDIT_CODE_ALPHABET for ch in first17):
        raise ValueError("the check character is computed from 17 characters of the credit code alphabet")
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * weight for ch, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(raw: str) -> str:
    """The normalized unified social credit code (GB 32100-2015) of an employer or provider."""
    code = normalize_identifier(raw)
    if len(code) != 18:
        raise IdentifierError("credit_code_length", "A unified social credit code has 18 characters.")
    # Characters 3-8 are the registering authority's administrative division code (GB/T 2260).
    if any(ch not in CREDIT_CODE_ALPHABET for ch in code) or not _is_ascii_digits(code[2:8]):
        raise IdentifierError(
            "credit_code_format",
            "A unified social credit code uses digits and capital letters other than I, O, S, V and Z,"
            " with digits in positions 3 to 8.",
        )
    if code[17] != credit_code_check_character(code[:17]):
        raise IdentifierError(
            "credit_code_checksum",
            "The unified social credit code's check character does not match; please check for typos.",
        )
    return code


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts superscripts and other scripts' digits, which NFKC does not always map.
    return text != "" and all("0" <= ch <= "9" for ch in text)


def _birth_date(yyyymmdd: str) -> date | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    return born if born >= _EARLIEST_BIRTH_DATE else None
