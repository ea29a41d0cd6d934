"""The year file: what a consistent one gives, every problem of an inconsistent one named by its place, and the
2027 example's publicity across the Spring Festival."""

from __future__ import annotations

from datetime import date

import pytest

from subsidy.policy.calendar_file import (
    EXAMPLE,
    STATE_COUNCIL,
    CalendarFileError,
    calendar_of,
    parse_year_file,
    year_from_json,
    year_to_json,
)
from subsidy.policy.versions import BAOTOU_2025
from subsidy.policy.workdays import CalendarYearUnknown, add_weekdays
from subsidy.programs.public_welfare.rules import publicity_last_day
from tests.calendars import EXAMPLE_2027

NOTICE = """
year: 2030
source: State Council notice
notice: 国办发明电〔2029〕1号
url: https://www.gov.cn/zhengce/content/2030.htm
holidays:
  - {name: 元旦, from: 2030-01-01, to: 2030-01-01}
  - {name: 春节, from: 2030-02-02, to: 2030-02-08}
working_days:
  - {date: 2030-01-26, name: 春节}
"""


def problems(text: str) -> dict[str, str]:
    with pytest.raises(CalendarFileError) as caught:
        parse_year_file(text)
    return {p.field: p.message for p in caught.value.problems}


def test_a_notice_file_gives_its_days_and_round_trips() -> None:
    year = parse_year_file(NOTICE)
    assert (year.year, year.source, year.notice, year.example) == (2030, STATE_COUNCIL, "国办发明电〔2029〕1号", False)
    assert len(year.holiday_days()) == 8
    calendar = calendar_of([year])
    assert not calendar.is_working_day(date(2030, 2, 4))  # Monday in the holiday
    assert calendar.is_working_day(date(2030, 1, 26))  # Saturday made a working day
    assert calendar.is_working_day(date(2030, 2, 11)) and not calendar.is_working_day(date(2030, 2, 9))
    again = year_from_json(2030, year.source, year_to_json(year), notice=year.notice, url=year.url)
    assert again == year


def test_every_date_must_be_in_that_year() -> None:
    found = problems(NOTICE.replace("to: 2030-01-01}", "to: 2031-01-01}"))
    assert found == {"holidays[1].to": "2031-01-01 is not in 2030: every date must be in that year"}
    found = problems(NOTICE.replace("date: 2030-01-26", "date: 2029-12-29"))
    assert list(found) == ["working_days[1].date"]


def test_only_a_weekend_becomes_a_working_day_and_it_is_named() -> None:
    found = problems(NOTICE.replace("{date: 2030-01-26, name: 春节}", "{date: 2030-01-28}"))
    assert set(found) == {"working_days[1].date", "working_days[1].name"}
    assert "weekday" in found["working_days[1].date"]
    found = problems(NOTICE.replace("date: 2030-01-26", "date: 2030-02-02"))  # a Saturday, but a holiday
    assert found == {"working_days[1].date": "2030-02-02 is also listed as a holiday"}


def test_ranges_in_order_and_not_overlapping() -> None:
    found = problems(NOTICE.replace("from: 2030-02-02, to: 2030-02-08", "from: 2030-02-08, to: 2030-02-02"))
    assert found == {"holidays[2].to": "2030-02-02 is before 2030-02-08"}
    found = problems(NOTICE.replace("from: 2030-02-02", "from: 2030-01-01"))
    assert set(found) == {"holidays[2]", "working_days[1].date"}  # and 26 January now falls inside it


def test_a_notice_names_its_number_and_address_and_an_example_says_so() -> None:
    found = problems(NOTICE.replace("notice: 国办发明电〔2029〕1号\n", "").replace("url: https://", "url: ftp://"))
    assert set(found) == {"notice", "url"}
    assert set(problems(NOTICE.replace("State Council notice", "example"))) == {"example", "description"}
    assert set(problems(NOTICE + "example: true\n")) == {"example", "source"}
    assert set(problems(NOTICE + "extra: 1\n")) == {"extra"}


def test_unreadable_files_are_problems_not_crashes() -> None:
    assert set(problems("year: [")) == {"file"}
    assert set(problems("- a list")) == {"file"}
    assert set(problems(NOTICE.replace("2030-02-08", "2030-02-30"))) == {"file"}  # no such day
    assert set(problems("[" * 5000)) == {"file"}
    assert set(problems("year: 1999\nsource: test data\nholidays: []\n")) == {"year", "holidays"}


def test_the_2027_example_is_marked_and_counts_publicity_across_its_spring_festival() -> None:
    year = parse_year_file(EXAMPLE_2027.read_text(encoding="utf-8"))
    assert (year.year, year.source, year.example) == (2027, EXAMPLE, True)
    assert year.description is not None and "not the official notice" in year.description
    calendar = calendar_of([year])
    # Approved on Thursday 4 February 2027, the day before the holiday (5-13 February): the five working days
    # are 15-19 February, after it. Monday to Friday would have ended on 11 February, inside the holiday.
    assert publicity_last_day(date(2027, 2, 4), BAOTOU_2025.placement, calendar) == date(2027, 2, 19)
    assert add_weekdays(date(2027, 2, 4), 5) == date(2027, 2, 11)
    assert publicity_last_day(date(2027, 2, 3), BAOTOU_2025.placement, calendar) == date(2027, 2, 18)
    # Sunday 31 January is a working day: approved on Friday 29 January, it counts.
    assert publicity_last_day(date(2027, 1, 29), BAOTOU_2025.placement, calendar) == date(2027, 2, 4)
    with pytest.raises(CalendarYearUnknown) as unknown:
        publicity_last_day(date(2027, 12, 28), BAOTOU_2025.placement, calendar)
    assert unknown.value.year == 2028
