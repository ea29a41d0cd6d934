"""Keep the message catalogues in step with the code: `python -m subsidy.api.pages.catalog`.

Extracts every message of the templates (`_("…")`) and of the page modules (`_("…")`, `N_("…")`), and merges them into
each language's .po file, keeping the translations already there. The test suite checks that zh-CN has them all.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from subsidy.api.pages.i18n import LANGUAGES, catalogue_path
from subsidy.forms import TEMPLATES_DIR

PAGES_DIR = Path(__file__).parent
PROGRAMS_DIR = Path(__file__).parents[2] / "programs"
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def extract() -> Catalog:
    catalog = Catalog(project="subsidy", charset="utf-8")
    sources = [
        (TEMPLATES_DIR, [("**.html", "jinja2")]),
        (PAGES_DIR, [("**.py", "python")]),
        # The programs' declarations: their names, steps, decision values and reason codes.
        (PROGRAMS_DIR, [("**.py", "python")]),
    ]
    for folder, method_map in sources:
        for filename, lineno, message, comments, _context in extract_from_dir(
            str(folder), method_map=method_map, keywords=KEYWORDS, options_map={"**.html": {"extensions": ""}}
        ):
            if isinstance(message, str) and message:
                catalog.add(message, locations=[(f"{folder.name}/{filename}", lineno)], auto_comments=comments)
    return catalog


def update() -> dict[str, int]:
    template = extract()
    missing: dict[str, int] = {}
    for language in LANGUAGES:
        path = catalogue_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=LANGUAGES[language])
        else:
            catalog = Catalog(locale=LANGUAGES[language], project="subsidy", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as target:
            write_po(target, catalog, width=120, omit_header=False, sort_output=False)
        missing[language] = sum(1 for message in catalog if message.id and not message.string)
    return missing


if __name__ == "__main__":
    for language, count in update().items():
        print(f"{language}: {count} messages without a translation")
