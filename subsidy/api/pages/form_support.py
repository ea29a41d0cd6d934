"""From posted HTML fields to the same pydantic forms the API uses, and from their errors to page messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from subsidy.api.pages.words import FIELD_ERROR

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class FieldError:
    name: str  # the dotted field name, e.g. applicant.id_number
    label: str
    message: str
    prefix: str  # "Error:" for screen readers, since colour alone must not carry it

    @property
    def field_id(self) -> str:
        return self.name.replace(".", "-")


def flat_values(form: FormData, names: list[str]) -> dict[str, str]:
    """The posted text of each known field, kept exactly as typed so that nothing is lost on an error."""
    return {name: str(form.get(name, ""))[:500] for name in names}


def nested(values: Mapping[str, str]) -> dict[str, Any]:
    """`applicant.id_number=…` → {"applicant": {"id_number": …}}; empty fields are left out (→ "missing")."""
    result: dict[str, Any] = {}
    for name, value in values.items():
        node = result
        *parents, leaf = name.split(".")
        for part in parents:  # groups exist even when empty, so each of their fields is reported
            node = node.setdefault(part, {})
        if value.strip() != "":
            node[leaf] = value
    return result


def field_errors(
    error: ValidationError,
    labels: Mapping[str, str],
    order: list[str],
    _: Gettext,
    aliases: Mapping[str, str] | None = None,
    messages: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """One message per field, in the order of the form, in the page's language."""
    found: dict[str, FieldError] = {}
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        name = (aliases or {}).get(name, name)
        if name not in labels:
            name = next((field for field in order if field.startswith(name + ".")), order[0])
        if name in found:
            continue
        found[name] = FieldError(name, labels[name], error_message(problem, _, messages), _("Error:"))
    return sorted(found.values(), key=lambda e: order.index(e.name) if e.name in order else len(order))


def error_message(problem: Mapping[str, Any], _: Gettext, messages: Mapping[str, str] | None = None) -> str:
    """The words for one pydantic error in the page's language: a form's own `messages` first, then FIELD_ERROR."""
    code = problem["type"]
    text = (messages or {}).get(code) or FIELD_ERROR.get(code)
    if text is None and code.startswith("literal"):
        text = FIELD_ERROR["choice"]
    if text is None and "date" in code:
        text = FIELD_ERROR["date_format"]
    return _(text) if text else str(problem["msg"])


def validate(model: type[BaseModel], values: Mapping[str, str], extra: Mapping[str, Any] | None = None) -> BaseModel:
    return model.model_validate({**nested(values), **(extra or {})})
