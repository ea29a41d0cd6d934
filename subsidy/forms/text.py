"""Free text as people write it: names, titles, reasons and notes, refused when they carry what no form needs.

Refused (422, error code `text_characters`): control characters (NUL cannot even be stored by PostgreSQL),
invisible formatting characters — direction overrides such as U+202E, which make a name read differently from what
is stored, and zero-width characters, which make two different names look alike — and lone surrogates, which are
not text at all. Line breaks and tabs are allowed in multi-line text (reasons, notes). Everything else a person can
type is kept as typed; pages escape it when they show it.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

TEXT_CHARACTERS = "text_characters"
_INVISIBLE = ("Cc", "Cf", "Cs")
_LINE_BREAKS = "\n\r\t"


def invisible_characters(value: str, *, multiline: bool = False) -> bool:
    """Whether the text holds a character that is refused (control, invisible formatting, lone surrogate)."""
    return any(unicodedata.category(ch) in _INVISIBLE and not (multiline and ch in _LINE_BREAKS) for ch in value)


def _refuse(value: str, multiline: bool) -> str:
    if invisible_characters(value, multiline=multiline):
        raise PydanticCustomError(
            TEXT_CHARACTERS,
            "remove control characters and invisible formatting characters "
            "(such as text-direction overrides or zero-width characters)",
        )
    return value


def _line(value: str) -> str:
    return _refuse(value, multiline=False)


def _text(value: str) -> str:
    return _refuse(value, multiline=True)


# One line: names, titles, codes. Multi-line: reasons and notes.
PlainLine = AfterValidator(_line)
PlainText = AfterValidator(_text)
LineStr = Annotated[str, PlainLine]
TextStr = Annotated[str, PlainText]


# Names must show something: a letter or digit (Unicode category L or N) that is not one of the fillers that render
# as blank — the Hangul fillers U+3164, U+115F, U+1160, U+FFA0 are category Lo — nor the blank Braille pattern
# U+2800; combining marks (category M) alone are no name either. A name of only these was blank on officials' pages.
NAME_LETTERS = "name_letters"
_BLANK_LETTERS = frozenset("\u3164\u115f\u1160\uffa0\u2800")


def has_visible_letter(value: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" and ch not in _BLANK_LETTERS for ch in value)


def _visible(value: str) -> str:
    if not has_visible_letter(value):
        raise PydanticCustomError(NAME_LETTERS, "a name needs at least one visible letter or digit")
    return value


VisibleLetters = AfterValidator(_visible)
