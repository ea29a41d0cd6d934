"""Policy version files: the shipped baseline, the parameter schema with every problem's path, the difference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from subsidy.policy.files import VersionFileError, difference, parse_version_file, read_version, shipped_versions
from subsidy.policy.versions import POLICY_VERSIONS, version_to_json

# version_to_json of baotou-2023 and baotou-2025 as they were written in code before they became files.
AS_CODE = json.loads((Path(__file__).parent / "seeded_versions_as_code.json").read_text(encoding="utf-8"))


def _baseline() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(AS_CODE[1]))
    return data


def test_the_shipped_files_hold_exactly_the_versions_that_were_code() -> None:
    shipped = shipped_versions()
    assert [name for name, _ in shipped] == ["baotou-2023.yaml", "baotou-2025.yaml"]
    assert [version_to_json(version) for _, version in shipped] == AS_CODE
    assert [version_to_json(version) for version in POLICY_VERSIONS] == AS_CODE
    assert str(shipped[1][1].rent.monthly_cap) == AS_CODE[1]["rent"]["monthly_cap"] == "1000.00"


def test_a_version_as_json_and_as_yaml_reads_the_same() -> None:
    as_json = json.dumps(AS_CODE[1], ensure_ascii=False)
    as_yaml = yaml.safe_dump(AS_CODE[1], allow_unicode=True)
    assert read_version(as_json, "v.json") == read_version(as_yaml, "v.yaml") == POLICY_VERSIONS[1]
    # An unquoted date in YAML is read as the text YYYY-MM-DD, not as YAML's timestamp type.
    unquoted = as_yaml.replace("valid_from: '2025-01-01'", "valid_from: 2025-01-01")
    assert "valid_from: 2025-01-01\n" in unquoted
    assert read_version(unquoted, "v.yaml").valid_from.isoformat() == "2025-01-01"


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(VersionFileError) as refused:
        read_version(data)
    return [(problem.path, problem.message) for problem in refused.value.problems]


def test_every_problem_is_listed_with_its_path() -> None:
    data = _baseline()
    data["rent"]["monthly_cap"] = 1200.0  # a float has already lost exactness
    data["rent"]["montly_cap"] = "1200.00"  # misspelt: must not silently take the default
    data["training"]["city_share"] = "1.01"
    data["placement"]["max_placements"] = -1
    data["placement"]["monthly_post_subsidy_by_county"]["150203"] = "1980.001"
    data["valid_from"] = "2026-02-30"
    del data["title"]
    assert _problems(data) == [
        ("title", "missing"),
        ("valid_from", "not a valid date"),
        ("rent.montly_cap", "unknown key"),
        ("rent.monthly_cap", 'expected a decimal number as text, e.g. "1000.00" (quote it: a float is not exact)'),
        ("placement.max_placements", "expected a whole number between 0 and 10000"),
        ("placement.monthly_post_subsidy_by_county.150203", "money has more than two decimal places"),
        ("training.city_share", "a share must lie between 0 and 1"),
    ]


@pytest.mark.parametrize(
    ("path", "value", "accepted"),
    [
        ("training.city_share", "1", True),
        ("training.city_share", "1.000001", False),
        ("training.city_share", "0", True),
        ("training.city_share", "-0.000001", False),
        ("rent.monthly_cap", "0.00", True),
        ("rent.monthly_cap", "-0.01", False),
        ("rent.monthly_cap", "9999999999.99", True),
        ("rent.monthly_cap", "10000000000.00", False),
        ("rent.max_months", 0, True),
        ("rent.max_months", -1, False),
        ("rent.max_months", 10_000, True),
        ("rent.max_months", 10_001, False),
        ("rent.max_months", "36", False),
        ("rent.pro_rata_partial_months", 1, False),
        ("rent.excluded_business_types", "blind_massage", False),
    ],
)
def test_limits_on_both_sides(path: str, value: Any, accepted: bool) -> None:
    data = _baseline()
    section, key = path.split(".")
    data[section][key] = value
    if accepted:
        assert version_to_json(read_version(data))[section][key] == value
    else:
        assert [p for p, _ in _problems(data)] == [path]


def test_rules_across_fields() -> None:
    data = _baseline()
    data["valid_to"] = "2024-12-31"
    data["placement"]["monthly_social_insurance_subsidy_by_county"]["110105"] = "900.00"
    data["placement"]["default_female_retirement_category"] = "female_45"
    data["placement"]["retirement_rules"]["male_60"]["birth_months_per_step"] = 0
    data["code"] = "no spaces"
    assert _problems(data) == [
        ("code", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
        ("valid_to", "the window ends before it starts (valid_from)"),
        ("placement.monthly_social_insurance_subsidy_by_county.110105", "not one of this version's counties"),
        ("placement.default_female_retirement_category", "must name one of the retirement rules"),
        ("placement.retirement_rules.male_60.birth_months_per_step", "must be at least 1"),
    ]
    data = _baseline()
    data["valid_to"] = data["valid_from"]  # a one-day window is a window
    assert read_version(data).valid_to == read_version(data).valid_from


def test_files_that_are_not_a_version() -> None:
    for content, message in [
        ("[1, 2]", "the file must hold one object (a policy version)"),
        ("code: [unclosed", "the file cannot be read as YAML or JSON"),
        (b"\xff\xfe", "the file is not UTF-8 text"),
        ('{"code": }', "the file cannot be read as YAML or JSON"),
    ]:
        with pytest.raises(VersionFileError) as refused:
            parse_version_file(content, "x.yaml")
        assert refused.value.problems[0].path == ""
        assert refused.value.problems[0].message.startswith(message)


def test_a_listing_entry_with_a_new_id_and_window_is_a_file() -> None:
    entry = {
        "id": "baotou-2025",
        "code": "baotou-2025",
        "jurisdiction": "150200",
        "valid_from": "2025-01-01",
        "valid_to": None,
        "parameters": _baseline(),
        "status": "approved",
        "loaded_by": "system",
        "loaded_at": "2026-01-01T00:00:00+00:00",
        "approved_by": "system",
        "approved_at": "2026-01-01T00:00:00+00:00",
        "source": "baotou-2025.yaml",
        "difference": [],
    }
    entry.update(id="baotou-2031", valid_from="2031-01-01", valid_to="2031-12-31")
    version = read_version(json.dumps(entry), "entry.json")
    assert (version.code, str(version.valid_from), str(version.valid_to)) == ("baotou-2031", "2031-01-01", "2031-12-31")
    assert version.rent == POLICY_VERSIONS[1].rent
    entry["surprise"] = 1
    with pytest.raises(VersionFileError) as refused:
        read_version(entry)
    assert [p.path for p in refused.value.problems] == ["surprise"]


def test_the_difference_lists_each_changed_value_with_its_path() -> None:
    data = _baseline()
    data.update(code="baotou-2026-07", valid_from="2026-07-01")
    data["rent"]["monthly_cap"] = "1200.00"
    data["placement"]["monthly_post_subsidy_by_county"]["150203"] = "2000.00"
    proposed = read_version(data)
    assert difference(POLICY_VERSIONS[1], proposed) == [
        {"path": "code", "in_force": "baotou-2025", "proposed": "baotou-2026-07"},
        {"path": "valid_from", "in_force": "2025-01-01", "proposed": "2026-07-01"},
        {"path": "rent.monthly_cap", "in_force": "1000.00", "proposed": "1200.00"},
        {"path": "placement.monthly_post_subsidy_by_county.150203", "in_force": "1980.00", "proposed": "2000.00"},
    ]
    assert difference(proposed, proposed) == []
    first = difference(None, proposed)[0]
    assert first == {"path": "code", "in_force": None, "proposed": "baotou-2026-07"}
