"""Policy version files: what an administrator loads and what the package ships (no database here).

A version file is YAML or JSON with the shape of `version_to_json` (code, jurisdiction, title, description,
valid_from, valid_to, source, counties, rent, placement, training). An entry of `GET /api/v1/policies` is a
file too: its `id` (or `code`), `jurisdiction`, `valid_from` and `valid_to` are the version's and win over the
copies inside `parameters`; the bookkeeping fields (status, who loaded and approved it, when, source,
difference) are the service's and are ignored. The schema of every program is its dataclass in
`subsidy.policy.versions`: unknown keys are refused, a missing key that has a default takes it, money and shares
are decimal text, dates YYYY-MM-DD, counts are whole numbers ≥ 0, shares and ratios lie between 0 and 1. Every
problem is listed with its path (`rent.monthly_cap`).

`shipped/*.yaml` are the versions the service starts with (baotou-2023, baotou-2025): seeded through this
same loader as approved by "system".
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import types
import typing
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from subsidy.policy.money import to_money
from subsidy.policy.versions import PolicyVersion, version_from_json, version_to_json

__all__ = [
    "SHIPPED_FILES",
    "VERSION_CODE_PATTERN",
    "Problem",
    "VersionFileError",
    "difference",
    "parse_version_file",
    "read_version",
    "shipped_versions",
    "version_of_document",
]

# A version's code is also its id in the API's paths and in every application that pins it.
VERSION_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_CODE = re.compile(VERSION_CODE_PATTERN)
_DIVISION_CODE = re.compile(r"\d{6}")
# Numeric(12, 2) in the ledger: an amount beyond it could never be posted.
MAX_MONEY = Decimal("9999999999.99")
# Fields of a `GET /api/v1/policies` entry that the service sets: ignored when such an entry is loaded as a file.
_BOOKKEEPING = frozenset(
    {
        "status",
        "loaded_by",
        "loaded_at",
        "approved_by",
        "approved_at",
        "rejected_by",
        "rejected_at",
        "rejection_reason",
        "source",
        "difference",
    }
)
_LISTING_IDENTITY = ("jurisdiction", "valid_from", "valid_to")
SHIPPED_FILES = ("baotou-2023.yaml", "baotou-2025.yaml")


@dataclass(frozen=True)
class Problem:
    path: str  # dotted, "" for the file as a whole
    message: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class VersionFileError(ValueError):
    """Everything wrong with a version file, each problem with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path or 'file'}: {p.message}" for p in problems))
        self.problems = problems


class _TextDatesLoader(yaml.SafeLoader):
    """YAML without the implicit timestamp type: an unquoted 2026-07-01 stays the text the schema reads."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_version_file(content: str | bytes, name: str = "") -> Mapping[str, Any]:
    """The document in a version file (JSON when it is named *.json or starts with "{", YAML otherwise)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise VersionFileError([Problem("", "the file is not UTF-8 text")]) from None
    content = content.removeprefix("\ufeff")
    try:
        if name.lower().endswith(".json") or content.lstrip().startswith("{"):
            document = json.loads(content)
        else:
            document = yaml.load(content, Loader=_TextDatesLoader)  # noqa: S506 - a SafeLoader subclass
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        problem = Problem("", f"the file cannot be read as YAML or JSON: {_first_line(error)}")
        raise VersionFileError([problem]) from None
    if not isinstance(document, Mapping):
        raise VersionFileError([Problem("", "the file must hold one object (a policy version)")])
    return document


def version_of_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The version's own data: a listing entry is unwrapped, its identity fields winning over `parameters`."""
    if "parameters" not in document:
        return dict(document)
    unknown = sorted(set(document) - _BOOKKEEPING - {"id", "code", "parameters", *_LISTING_IDENTITY})
    if unknown:
        raise VersionFileError([Problem(str(key), "unknown key") for key in unknown])
    parameters = document["parameters"]
    if not isinstance(parameters, Mapping):
        raise VersionFileError([Problem("parameters", "expected an object")])
    data = dict(parameters)
    code = document.get("id", document.get("code"))
    if code is not None:
        data["code"] = code
    for key in _LISTING_IDENTITY:
        if key in document:
            data[key] = document[key]
    return data


def read_version(content: str | bytes | Mapping[str, Any], name: str = "") -> PolicyVersion:
    """A version file checked against the parameter schema: the version, or VersionFileError with every problem."""
    document = content if isinstance(content, Mapping) else parse_version_file(content, name)
    data = version_of_document(document)
    problems: list[Problem] = []
    _check(data, PolicyVersion, "", problems)
    if not problems:
        _check_version_rules(data, problems)
    if problems:
        raise VersionFileError(problems)
    try:
        return version_from_json(data)
    except (ValueError, TypeError) as error:  # a rule of the dataclasses that the checks above do not name
        raise VersionFileError([Problem("", str(error))]) from None


def difference(in_force: PolicyVersion | None, proposed: PolicyVersion) -> list[dict[str, Any]]:
    """Every value that differs, as {path, in_force, proposed} (None where one side has no such value)."""
    old = _leaves(version_to_json(in_force)) if in_force is not None else {}
    new = _leaves(version_to_json(proposed))
    changes = []
    for path in sorted(old.keys() | new.keys(), key=_path_order(new, old)):
        if path not in old or path not in new or old[path] != new[path]:
            changes.append({"path": path, "in_force": old.get(path), "proposed": new.get(path)})
    return changes


@functools.cache
def shipped_versions() -> tuple[tuple[str, PolicyVersion], ...]:
    """The versions the package ships, each with its file name, read by the loader above."""
    folder = resources.files("subsidy.policy") / "shipped"
    return tuple((name, read_version((folder / name).read_text(encoding="utf-8"), name)) for name in SHIPPED_FILES)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _path_order(*sides: dict[str, Any]):  # type: ignore[no-untyped-def]
    # The order of the file (the dataclasses' field order), not the alphabet.
    order: dict[str, int] = {}
    for side in sides:
        for path in side:
            order.setdefault(path, len(order))
    return order.__getitem__


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    return {prefix: value}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


@functools.cache
def _hints(kind: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _check(value: Any, kind: Any, where: str, problems: list[Problem], name: str = "") -> None:
    """The schema derived from the dataclasses' fields and types, collecting every problem instead of the first."""
    origin = typing.get_origin(kind)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, Mapping):
            problems.append(Problem(where, "expected an object"))
            return
        fields = {f.name: f for f in dataclasses.fields(kind)}
        for key in sorted(set(value) - set(fields), key=str):
            problems.append(Problem(_join(where, str(key)), "unknown key"))
        hints = _hints(kind)
        for field_name, spec in fields.items():
            if field_name in value:
                _check(value[field_name], hints[field_name], _join(where, field_name), problems, field_name)
            elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                problems.append(Problem(_join(where, field_name), "missing"))
        return
    if origin is types.UnionType or origin is typing.Union:
        if value is None and type(None) in typing.get_args(kind):
            return
        (non_null,) = [option for option in typing.get_args(kind) if option is not type(None)]
        _check(value, non_null, where, problems, name)
        return
    if origin is tuple:
        if not isinstance(value, list):
            problems.append(Problem(where, "expected a list"))
            return
        for index, item in enumerate(value):
            _check(item, typing.get_args(kind)[0], f"{where}[{index}]", problems, name)
        return
    if origin is dict:
        if not isinstance(value, Mapping):
            problems.append(Problem(where, "expected an object"))
            return
        for key, item in value.items():
            _check(item, typing.get_args(kind)[1], _join(where, str(key)), problems, name)
        return
    message = _leaf_problem(value, kind, name)
    if message:
        problems.append(Problem(where, message))


def _leaf_problem(value: Any, kind: Any, name: str) -> str | None:
    if kind is Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return 'expected a decimal number as text, e.g. "1000.00" (quote it: a float is not exact)'
        try:
            number = Decimal(value)
        except ArithmeticError:
            return "not a decimal number"
        if not number.is_finite():
            return "not a finite number"
        if name.endswith(("share", "ratio")):
            return None if Decimal(0) <= number <= Decimal(1) else "a share must lie between 0 and 1"
        try:
            to_money(number)
        except ValueError as error:
            return str(error)
        if not Decimal(0) <= number <= MAX_MONEY:
            return f"an amount must lie between 0.00 and {MAX_MONEY}"
        return None
    if kind is date:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return "expected a date as YYYY-MM-DD"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "not a valid date"
        return None
    if kind is bool:
        return None if isinstance(value, bool) else "expected true or false"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return "expected a whole number"
        return None if 0 <= value <= 10_000 else "expected a whole number between 0 and 10000"
    if kind is str:
        if not isinstance(value, str):
            return "expected text"
        if len(value) > 4000 or any(unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\n\t" for c in value):
            return "text of at most 4000 characters, without control or invisible formatting characters"
        return None
    return f"no schema for {kind!r}"  # pragma: no cover - a new parameter type needs a rule here


def _check_version_rules(data: Mapping[str, Any], problems: list[Problem]) -> None:
    """Rules across fields; called only when every field has its type."""
    if not _CODE.fullmatch(data["code"]):
        problems.append(Problem("code", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"))
    if not _DIVISION_CODE.fullmatch(data["jurisdiction"]):
        problems.append(Problem("jurisdiction", "a 6-digit administrative division code"))
    valid_to = data.get("valid_to")
    if valid_to is not None and valid_to < data["valid_from"]:
        problems.append(Problem("valid_to", "the window ends before it starts (valid_from)"))
    counties = data["counties"]
    for code in counties:
        if not _DIVISION_CODE.fullmatch(code):
            problems.append(Problem(f"counties.{code}", "a county is named by its 6-digit division code"))
    placement = data.get("placement", {})
    for amounts in ("monthly_post_subsidy_by_county", "monthly_social_insurance_subsidy_by_county"):
        for code in placement.get(amounts, {}):
            if code not in counties:
                problems.append(Problem(f"placement.{amounts}.{code}", "not one of this version's counties"))
    rules = placement.get("retirement_rules")
    names = rules.keys() if rules is not None else {"male_60", "female_55", "female_50"}
    if placement.get("default_female_retirement_category", "female_50") not in names:
        problems.append(
            Problem("placement.default_female_retirement_category", "must name one of the retirement rules")
        )
    for group, rule in (rules or {}).items():
        where = f"placement.retirement_rules.{group}"
        if rule["birth_months_per_step"] == 0:
            problems.append(Problem(f"{where}.birth_months_per_step", "must be at least 1"))
        if rule["target_years"] < rule["baseline_years"]:
            problems.append(Problem(f"{where}.target_years", "must not be below baseline_years"))
