import pickle
from datetime import date, timedelta

import pytest

from subsidy.policy.workdays import (
    CalendarYearUnknown,
    OfficialCalendar,
    add_weekdays,
    add_working_days,
    add_working_days_or_estimate,
    is_working_day,
)
from tests.calendars import calendar_for_tests

# The official 2025 calendar as test data (tests/calendars/2025.yaml), never the installed package.
CAL = calendar_for_tests(2025)

# National Day and Mid-Autumn 2025 (国办发明电〔2024〕12号): 1-8 October off; Sunday 28 September and
# Saturday 11 October are adjusted working days (调休).
NATIONAL_DAY_2025_HOLIDAYS = [date(2025, 10, day) for day in range(1, 9)]


def test_national_day_2025_holidays_are_not_working_days() -> None:
    for day in NATIONAL_DAY_2025_HOLIDAYS:
        assert not is_working_day(day, CAL), day


def test_adjusted_weekend_days_of_national_day_2025_are_working_days() -> None:
    assert date(2025, 9, 28).weekday() == 6  # a Sunday
    assert date(2025, 10, 11).weekday() == 5  # a Saturday
    assert is_working_day(date(2025, 9, 28), CAL)
    assert is_working_day(date(2025, 10, 11), CAL)


def test_ordinary_days_around_national_day_2025() -> None:
    assert not is_working_day(date(2025, 9, 27), CAL)  # Saturday
    assert is_working_day(date(2025, 9, 30), CAL)  # Tuesday before the holiday
    assert is_working_day(date(2025, 10, 9), CAL)  # first day back
    assert not is_working_day(date(2025, 10, 12), CAL)  # ordinary Sunday


def test_add_working_days_skips_the_holiday_and_counts_adjusted_days() -> None:
    assert add_working_days(date(2025, 9, 30), 1, CAL) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 26), 1, CAL) == date(2025, 9, 28)
    assert add_working_days(date(2025, 9, 30), 3, CAL) == date(2025, 10, 11)
    # A 10-working-day review opened on Friday 26 September 2025.
    assert add_working_days(date(2025, 9, 26), 10, CAL) == date(2025, 10, 16)


def test_add_working_days_counts_strictly_after_the_start() -> None:
    assert add_working_days(date(2025, 10, 13), 1, CAL) == date(2025, 10, 14)
    assert add_working_days(date(2025, 10, 4), 1, CAL) == date(2025, 10, 9)  # started inside the holiday
    assert add_working_days(date(2025, 10, 13), 0, CAL) == date(2025, 10, 13)


def test_add_working_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2025, 10, 13), -1, CAL)


def test_add_weekdays_ignores_holidays() -> None:
    assert add_weekdays(date(2025, 9, 26), 1) == date(2025, 9, 29)  # Friday -> Monday
    assert add_weekdays(date(2025, 9, 30), 1) == date(2025, 10, 1)  # a holiday, but a weekday
    assert add_weekdays(date(2025, 9, 26), 10) == date(2025, 10, 10)
    assert add_weekdays(date(2100, 1, 1), 5) == date(2100, 1, 8)  # works where the calendar does not
    assert add_weekdays(date(2025, 9, 27), 0) == date(2025, 9, 27)
    with pytest.raises(ValueError):
        add_weekdays(date(2025, 9, 26), -1)


def test_a_year_the_calendar_does_not_know() -> None:
    with pytest.raises(CalendarYearUnknown) as caught:
        is_working_day(date(2100, 3, 1), CAL)
    assert isinstance(caught.value, ValueError)
    assert caught.value.year == 2100
    assert "2100" in str(caught.value)


def test_adding_working_days_into_an_unknown_year_raises() -> None:
    with pytest.raises(CalendarYearUnknown):
        add_working_days(date(2099, 12, 30), 10, CAL)
    with pytest.raises(CalendarYearUnknown) as caught:
        add_working_days(date(2025, 12, 29), 3, CAL)  # 30, 31 December, then 2026, which CAL does not know
    assert caught.value.year == 2026
    assert add_working_days(date(2025, 12, 29), 2, CAL) == date(2025, 12, 31)


def test_the_installed_package_knows_2023_to_2026_for_replaying_older_histories() -> None:
    # Without a calendar the functions read chinesecalendar, as workflows did before `calendar-from-database`:
    # the histories recorded then replay on it, so it must keep knowing the years they counted in.
    day = date(2023, 4, 22)
    while day <= date(2026, 12, 31):
        is_working_day(day)
        day += timedelta(days=1)
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_the_package_and_the_test_data_agree_on_2025_and_2026() -> None:
    both = calendar_for_tests(2025, 2026)
    day = date(2025, 1, 1)
    while day <= date(2026, 12, 31):
        assert is_working_day(day, both) == is_working_day(day), day
        day += timedelta(days=1)


def test_an_estimate_past_the_known_years_counts_monday_to_friday() -> None:
    assert add_working_days_or_estimate(date(2025, 9, 30), 1, CAL) == (date(2025, 10, 9), False)
    # From Monday 29 December 2025: 30, 31 December, then Thursday 1 January 2026 as a weekday (the calendar
    # does not know 2026, whose 1-3 January are in fact holidays): an estimate.
    assert add_working_days_or_estimate(date(2025, 12, 29), 3, CAL) == (date(2026, 1, 1), True)
    assert add_working_days_or_estimate(date(2025, 12, 29), 2, CAL) == (date(2025, 12, 31), False)


def test_a_calendar_value_refuses_inconsistent_days() -> None:
    with pytest.raises(ValueError):
        OfficialCalendar.of([2025], holidays=[date(2026, 1, 1)])  # outside its years
    with pytest.raises(ValueError):
        OfficialCalendar.of([2025], working_weekends=[date(2025, 9, 29)])  # a Monday
    with pytest.raises(ValueError):
        OfficialCalendar.of([2025], [date(2025, 9, 28)], [date(2025, 9, 28)])  # both
    plain = OfficialCalendar.of([2030])
    assert plain.is_working_day(date(2030, 1, 4)) and not plain.is_working_day(date(2030, 1, 5))
    merged = CAL.merged(calendar_for_tests(2026))
    assert merged.years == {2025, 2026} and not merged.is_working_day(date(2026, 2, 16))


def test_calendar_year_unknown_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(CalendarYearUnknown(2100)))
    assert copy.year == 2100
    assert str(copy) == str(CalendarYearUnknown(2100))
