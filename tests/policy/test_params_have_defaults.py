"""Every program parameter has a default, and so does each program's section (issue 13, part 3): a version stored
before a parameter existed must still load. The sections are read from `PolicyVersion` itself, so a program's
parameters added later are covered without editing this file."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from subsidy.policy.versions import PolicyVersion, with_defaults

SECTIONS = [
    spec
    for spec in dataclasses.fields(PolicyVersion)
    if dataclasses.is_dataclass(typing.get_type_hints(PolicyVersion)[spec.name])
]


def _has_default(spec: dataclasses.Field) -> bool:  # type: ignore[type-arg]
    return spec.default is not dataclasses.MISSING or spec.default_factory is not dataclasses.MISSING


def test_the_program_sections_are_found() -> None:
    assert [spec.name for spec in SECTIONS] == [
        "rent",
        "placement",
        "training",
        "over_quota",
        "graduate_hiring",
        "dispatch_referral",
        "blind_massage",
    ]


@pytest.mark.parametrize("section", SECTIONS, ids=lambda spec: spec.name)
def test_every_parameter_of_every_program_has_a_default(section: dataclasses.Field) -> None:  # type: ignore[type-arg]
    assert _has_default(section)
    params = typing.get_type_hints(PolicyVersion)[section.name]
    assert [spec.name for spec in dataclasses.fields(params) if not _has_default(spec)] == []
    # ... and a version stored with none of them is filled with every one.
    filled = with_defaults({})[0][section.name]
    assert set(filled) == {spec.name for spec in dataclasses.fields(params)}
