"""An unknown field in any body is 422 naming it, for every program of the registry (issue 13, part 3): every form
and every object nested in it, every event of every program, every decision step's `values`. The cases are read
from `PROGRAMS`, so a program added to the registry is covered without editing this file."""

from __future__ import annotations

import types
import typing
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from subsidy.api.decision_values import STEP_VALUES, checked_values
from subsidy.api.errors import Invalid
from subsidy.api.schemas import DecisionIn, DecisionValues, EventIn
from subsidy.db.models import Application, Task
from subsidy.programs.account_registration.contracts import REGISTRATION_PROGRAM
from subsidy.programs.registry import PROGRAMS
from subsidy.workflows.contracts import Actor
from tests.api.conftest import Login

UNKNOWN = "not_a_field_of_ours"
# A demo account of each role that applies (subsidy/service/seed.py).
ACCOUNT_OF_ROLE = {
    "applicant": "applicant-a",
    "employer": "employer-a",
    "provider": "provider-a",
    "agency": "agency-a",
}
# Event fields every event may carry; each of the others belongs to the events that name it in `event_fields`.
EVERY_EVENT = {"type", "date", "note"}


def _models_in(annotation: Any) -> list[tuple[tuple[str | int, ...], type[BaseModel]]]:
    """The models an annotation holds, each with the path step(s) to reach it (a list's first item: 0)."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [((), annotation)]
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (list, tuple):
        return [((0, *path), model) for path, model in _models_in(typing.get_args(annotation)[0])]
    if origin in (typing.Union, types.UnionType):
        return [found for arg in typing.get_args(annotation) for found in _models_in(arg)]
    return []


def nested_objects(model: type[BaseModel], where: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of the model itself and of every object nested in it, at any depth."""
    paths = [where]
    for name, info in model.model_fields.items():
        for steps, inner in _models_in(info.annotation):
            paths.extend(nested_objects(inner, (*where, name, *steps)))
    return paths


def body_with_unknown(program: str, path: tuple[str | int, ...]) -> dict[str, Any]:
    """A body of `program` with the unknown field in the object at `path` (the rest may be missing: the unknown
    field must be named whatever else is wrong)."""
    body: dict[str, Any] = {"program": program}
    holder: Any = body
    for index, step in enumerate(path):
        following = path[index + 1] if index + 1 < len(path) else None
        child: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            holder.append(child)
        else:
            holder[step] = child
        holder = child
    holder[UNKNOWN] = "x"
    return body


FORM_CASES = [
    pytest.param(code, path, id=f"{code}:{'.'.join(map(str, path)) or 'form'}")
    for code, program in sorted(PROGRAMS.items())
    for path in nested_objects(program.form)
]


def test_the_walk_finds_the_nested_objects_of_the_forms() -> None:
    """The walk itself: the rent form's three parts, a class plan's course and trainees (a list), a placement's
    person."""
    assert set(nested_objects(PROGRAMS["rent_subsidy"].form)) == {(), ("applicant",), ("business",), ("lease",)}
    assert {("course",), ("trainees", 0)} <= set(nested_objects(PROGRAMS["training_subsidy"].form))
    assert ("person",) in nested_objects(PROGRAMS["public_welfare_placement"].form)


@pytest.mark.parametrize(("code", "path"), FORM_CASES)
def test_every_form_of_the_registry_refuses_an_unknown_field_at_every_depth(
    code: str, path: tuple[str | int, ...]
) -> None:
    form = PROGRAMS[code].form
    with pytest.raises(ValidationError) as refused:
        form.model_validate(body_with_unknown(code, path))
    errors = refused.value.errors()
    assert ((*path, UNKNOWN), "extra_forbidden") in {(error["loc"], error["type"]) for error in errors}


async def test_every_submitted_form_refuses_an_unknown_field_at_every_depth_over_http(
    http: httpx.AsyncClient, login: Login
) -> None:
    """The same bodies through the endpoints that take them: POST /api/v1/applications for the programs someone
    applies for (signed in with that role), POST /api/v1/registrations for an account's registration."""
    checked = 0
    for code, program in sorted(PROGRAMS.items()):
        if program.applicant_roles:
            url, headers = "/api/v1/applications", await login(ACCOUNT_OF_ROLE[program.applicant_roles[0]])
        elif code == REGISTRATION_PROGRAM:
            url, headers = "/api/v1/registrations", {}
        else:
            continue  # nobody submits it (a county's post collection): its form is checked above
        for path in nested_objects(program.form):
            body = body_with_unknown(code, path)
            if code == REGISTRATION_PROGRAM:
                del body["program"]  # the registration endpoint's body names no program
            response = await http.post(url, json=body, headers=headers)
            assert response.status_code == 422, (code, path, response.text)
            problems = {(tuple(item["loc"]), item["type"]) for item in response.json()["detail"]}
            assert (("body", *path, UNKNOWN), "extra_forbidden") in problems, (code, path, problems)
            checked += 1
    assert checked >= 12  # rent 4, training 3, post 3, placement 2, flexible 1+, registration 1


EVENT_CASES = [
    pytest.param(code, event_type, name, id=f"{code}:{event_type}:{name}")
    for code, program in sorted(PROGRAMS.items())
    for event_type in typing.get_args(EventIn.model_fields["type"].annotation)
    for name in sorted(set(EventIn.model_fields) - EVERY_EVENT - set(program.event_fields.get(event_type, ())))
]


@pytest.mark.parametrize(("code", "event_type", "name"), EVENT_CASES)
def test_every_event_of_every_program_refuses_a_field_it_does_not_use(code: str, event_type: str, name: str) -> None:
    # Only the field's presence matters: `Program.event` refuses before it looks at any value.
    event = EventIn.model_construct(type=event_type, **{name: object()})
    for other in set(EventIn.model_fields) - {"type", name}:
        setattr(event, other, None)
    with pytest.raises(Invalid) as refused:
        PROGRAMS[code].event(Application(form={}), event, Actor("someone", ["applicant"]))
    assert refused.value.detail[0]["loc"] == ["body", name]  # type: ignore[index]
    assert refused.value.detail[0]["msg"] == f"{name} is not a field of a {event_type} event of {code}"  # type: ignore[index]


def test_an_event_field_nobody_declared_is_refused_by_the_body_schema() -> None:
    with pytest.raises(ValidationError) as refused:
        EventIn.model_validate({"type": "withdrawn", UNKNOWN: "x"})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [((UNKNOWN,), "extra_forbidden")]


async def test_an_unknown_event_field_is_422_naming_it_over_http(http: httpx.AsyncClient, login: Login) -> None:
    response = await http.post(
        "/api/v1/applications/00000000-0000-0000-0000-000000000000/events",
        json={"type": "withdrawn", UNKNOWN: "x"},
        headers=await login("applicant-a"),
    )
    assert response.status_code == 422, response.text
    assert [(item["loc"], item["type"]) for item in response.json()["detail"]] == [
        (["body", UNKNOWN], "extra_forbidden")
    ]


# Every step of every program, as its declaration lists them: a value the step does not read is refused, naming it.
DECISION_CASES = [
    pytest.param(code, step.code, name, id=f"{code}:{step.code}:{name}")
    for code in sorted(PROGRAMS)
    for step in PROGRAMS[code].steps
    for name in sorted(set(DecisionValues.model_fields) - set(STEP_VALUES.get((code, step.code), ())))
]


def test_the_steps_with_values_are_steps_of_programs_of_the_registry() -> None:
    assert {code for code, _ in STEP_VALUES} <= set(PROGRAMS)
    assert all(PROGRAMS[code].step(step) is not None for code, step in STEP_VALUES)
    assert all(program.steps for program in PROGRAMS.values())  # every procedure has a human step
    assert {name for names in STEP_VALUES.values() for name in names} == set(DecisionValues.model_fields)


@pytest.mark.parametrize(("code", "step", "name"), DECISION_CASES)
def test_every_step_refuses_a_value_it_does_not_read(code: str, step: str, name: str) -> None:
    task = Task(program=code, step=step)
    with pytest.raises(Invalid) as refused:
        checked_values(Application(form={}), task, "approve", {name: "1"})
    assert refused.value.detail[0]["loc"] == ["body", "values", name]  # type: ignore[index]
    assert refused.value.detail[0]["type"] == "unknown_value"  # type: ignore[index]
    assert refused.value.detail[0]["msg"].startswith(f"{name} is not a value of this step ({code} {step} takes ")  # type: ignore[index]


def test_a_value_nobody_declared_is_refused_by_the_body_schema() -> None:
    with pytest.raises(ValidationError) as refused:
        DecisionIn.model_validate({"decision": "approve", "values": {UNKNOWN: "1"}})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("values", UNKNOWN), "extra_forbidden")]
