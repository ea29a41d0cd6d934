import pickle
from datetime import date, timedelta

import pytest

from subsidy.policy.workdays import CalendarYearUnknown, add_weekdays, add_working_days, is_working_day

# National Day and Mid-Autumn 2025 (国办发明电〔2024〕12号): 1-8 October off; Sunday 28 September and
# Saturday 11 October are adjusted working days (调休).
NATIONAL_DAY_2025_HOLIDAYS = [date(2025, 10, day) for day in range(1, 9)]


def test_national_day_2025_holidays_are_not_working_days() -> None:
    for day in NATIONAL_DAY_2025_HOLIDAYS:
        assert not is_working_day(day), day


def test_adjusted_weekend_days_of_national_day_2025_are_working_days() -> None:
    assert date(2025, 9, 28).weekday() == 6  # a Sunday
    assert date(2025, 10, 11).weekday() == 5  # a Saturday
    assert is_working_day(date(2025, 9, 28))
    assert is_working_day(date(2025, 10, 11))


def test_ordinary_days_around_national_day_2025() -> None:
    assert not is_working_day(date(2025, 9, 27))  # Saturday
    assert is_working_day(date(2025, 9, 30))  # Tuesday before the holiday
    assert is_working_day(date(2025, 10, 9))  # first day back
    assert not is_working_day(date(2025, 10, 12))  # ordinary Sunday


def test_add_working_days_skips_the_holiday_and_counts_adjusted_days() -> None:
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # A 10-working-day review opened on Friday 26 September 2025.
    assert add_working_days(date(2025, 9, 26), 10) == date(2025, 10, 16)


def test_add_working_days_counts_strictly_after_the_start() -> None:
    assert add_working_days(date(2025, 10, 13), 1) == date(2025, 10, 14)
    assert add_working_days(date(2025, 10, 4), 1) == date(2025, 10, 9)  # started inside the holiday
    assert add_working_days(date(2025, 10, 13), 0) == date(2025, 10, 13)


def test_add_working_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2025, 10, 13), -1)


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
        is_working_day(date(2100, 3, 1))
    assert isinstance(caught.value, ValueError)
    assert caught.value.year == 2100
    assert "2100" in str(caught.value)


def test_adding_working_days_into_an_unknown_year_raises() -> None:
    with pytest.raises(CalendarYearUnknown):
        add_working_days(date(2099, 12, 30), 10)


def test_every_day_of_2024_answers() -> None:
    # The whole range the plan baotou-2023 covered must be known to the installed calendar data.
    day = date(2023, 4, 22)
    while day <= date(2024, 12, 31):
        is_working_day(day)
        day += timedelta(days=1)


def test_calendar_year_unknown_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(CalendarYearUnknown(2100)))
    assert copy.year == 2100
    assert str(copy) == str(CalendarYearUnknown(2100))
