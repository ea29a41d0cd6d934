"""Message catalogues (Babel, gettext .po files): zh-CN first, English by a remembered switch.

The catalogues are read from their .po sources at start-up, so there is no build step to forget.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from subsidy.forms import FORMS_DIR

LOCALE_DIR = FORMS_DIR / "locale"
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "lang"


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / LANGUAGES[language] / "LC_MESSAGES" / "messages.po"


@lru_cache
def translations(language: str) -> gettext.NullTranslations:
    path = catalogue_path(language)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=LANGUAGES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose_language(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE
