"""Business-hour arithmetic, without the database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.business_hours import Schedule, add_business_seconds, business_seconds_between

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600


def office(zone=UTC, holidays=()):
    """Monday to Friday, 09:00–18:00."""
    return Schedule(
        zone=zone,
        working_days=frozenset({1, 2, 3, 4, 5}),
        starts=time(9),
        ends=time(18),
        holidays=frozenset(holidays),
    )


def at(day, hour, minute=0, zone=UTC):
    return datetime(2026, 3, day, hour, minute, tzinfo=zone)


# 2026-03-02 is a Monday; 2026-03-06 a Friday; 2026-03-07/08 the weekend.


def test_a_span_inside_one_working_day_counts_in_full():
    assert business_seconds_between(office(), at(2, 10), at(2, 12, 30)) == 2.5 * HOUR


def test_nothing_counts_when_the_end_is_not_after_the_start():
    assert business_seconds_between(office(), at(2, 12), at(2, 12)) == 0
    assert business_seconds_between(office(), at(2, 12), at(2, 10)) == 0


def test_time_outside_the_working_window_does_not_count():
    assert business_seconds_between(office(), at(2, 7), at(2, 10)) == HOUR
    assert business_seconds_between(office(), at(2, 17), at(2, 22)) == HOUR
    assert business_seconds_between(office(), at(2, 19), at(3, 8)) == 0


def test_weekends_are_skipped():
    friday_evening, monday_morning = at(6, 17), at(9, 10)
    assert business_seconds_between(office(), friday_evening, monday_morning) == 2 * HOUR
    assert business_seconds_between(office(), at(7, 10), at(8, 16)) == 0


def test_holidays_are_skipped():
    holiday = office(holidays={date(2026, 3, 3)})
    assert business_seconds_between(holiday, at(2, 17), at(4, 10)) == 2 * HOUR
    assert add_business_seconds(holiday, at(2, 17), 2 * HOUR) == at(4, 10)


def test_multi_day_spans_add_up_whole_days():
    assert business_seconds_between(office(), at(2, 9), at(13, 18)) == 10 * 9 * HOUR
    assert add_business_seconds(office(), at(2, 9), 10 * 9 * HOUR) == at(13, 18)


def test_adding_from_before_opening_starts_at_opening():
    assert add_business_seconds(office(), at(2, 6), HOUR) == at(2, 10)


def test_adding_from_after_closing_starts_the_next_working_day():
    assert add_business_seconds(office(), at(2, 20), HOUR) == at(3, 10)


def test_adding_from_a_weekend_starts_on_monday():
    assert add_business_seconds(office(), at(7, 12), HOUR) == at(9, 10)


def test_friday_afternoon_target_lands_on_monday():
    assert add_business_seconds(office(), at(6, 17), 2 * HOUR) == at(9, 10)


def test_a_target_that_uses_up_the_day_is_due_at_closing_not_next_morning():
    assert add_business_seconds(office(), at(6, 17), HOUR) == at(6, 18)


def test_exact_boundaries():
    assert add_business_seconds(office(), at(2, 9), 0) == at(2, 9)
    assert add_business_seconds(office(), at(2, 18), 1) == at(3, 9) + timedelta(seconds=1)
    assert business_seconds_between(office(), at(2, 9), at(2, 18)) == 9 * HOUR
    assert business_seconds_between(office(), at(2, 18), at(3, 9)) == 0


def test_the_calendar_zone_decides_the_hours_for_utc_inputs():
    shanghai = office(SHANGHAI)
    # 01:00 UTC is 09:00 in Shanghai (UTC+8, no daylight saving).
    assert business_seconds_between(shanghai, at(2, 1), at(2, 3)) == 2 * HOUR
    assert business_seconds_between(shanghai, at(2, 10), at(2, 12)) == 0
    due = add_business_seconds(shanghai, at(2, 9), HOUR)  # 17:00 Shanghai
    assert due == at(2, 10)
    assert due.tzinfo is SHANGHAI
    # Friday 17:00 Shanghai + 2 h → Monday 10:00 Shanghai = Monday 02:00 UTC.
    assert add_business_seconds(shanghai, at(6, 9), 2 * HOUR) == at(9, 2)


def test_daylight_saving_change_in_berlin():
    berlin = office(BERLIN)
    # Clocks go forward on Sunday 2026-03-29: Friday 08:00 UTC is 09:00 CET, Monday 07:00 UTC
    # is 09:00 CEST.
    friday_open = datetime(2026, 3, 27, 8, tzinfo=UTC)
    monday_open = datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert business_seconds_between(berlin, friday_open, monday_open) == 9 * HOUR
    assert add_business_seconds(berlin, friday_open, 10 * HOUR) == datetime(
        2026, 3, 30, 8, tzinfo=UTC
    )


def test_a_working_window_across_the_daylight_saving_gap_counts_real_time():
    night = Schedule(zone=BERLIN, working_days=frozenset(range(1, 8)), starts=time(1), ends=time(4))
    # 01:00–04:00 on 2026-03-29 lasts two real hours: 02:00 does not exist.
    day = datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert business_seconds_between(night, day, day + timedelta(hours=5)) == 2 * HOUR


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        business_seconds_between(office(), datetime(2026, 3, 2, 9), at(2, 10))


def test_a_schedule_needs_a_working_day_and_a_day_that_ends_after_it_starts():
    with pytest.raises(ValueError):
        Schedule(zone=UTC, working_days=frozenset(), starts=time(9), ends=time(18))
    with pytest.raises(ValueError):
        Schedule(zone=UTC, working_days=frozenset({1}), starts=time(18), ends=time(9))


SCHEDULES = [
    office(),
    office(SHANGHAI, holidays={date(2026, 3, 4)}),
    office(BERLIN, holidays={date(2026, 3, 30)}),
    Schedule(zone=BERLIN, working_days=frozenset({2, 4, 6}), starts=time(7, 30), ends=time(12)),
]
STARTS = [
    datetime(2026, 3, 20, 0, tzinfo=UTC) + timedelta(minutes=97 * step) for step in range(0, 200, 7)
]
AMOUNTS = [0, 1, 59, HOUR, 4 * HOUR + 17, 9 * HOUR, 27 * HOUR, 100 * HOUR + 1]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_adding_then_measuring_gives_back_the_seconds_added(schedule):
    for start in STARTS:
        for seconds in AMOUNTS:
            due = add_business_seconds(schedule, start, seconds)
            assert due >= start
            assert business_seconds_between(schedule, start, due) == seconds, (start, seconds)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_measuring_then_adding_reaches_the_same_business_moment(schedule):
    for start in STARTS:
        for end in STARTS:
            seconds = business_seconds_between(schedule, start, end)
            reached = add_business_seconds(schedule, start, seconds)
            assert reached <= end or seconds == 0
            # Between where adding lands and the end, no working time passes.
            assert business_seconds_between(schedule, reached, end) == 0, (start, end)
