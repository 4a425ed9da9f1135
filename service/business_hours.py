"""Business-hour arithmetic for SLA clocks, in plain Python (no Django).

A schedule is a set of working weekdays with one working window per day (say 09:00-18:00) in a
time zone, minus holidays. Clocks only run inside those windows: a ticket that arrives on Friday
evening with four business hours to its first response is due on Monday at 13:00.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Far enough for any SLA target; a schedule with no working day at all would loop forever.
MAX_DAYS_SEARCHED = 3 * 366


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    working_days: frozenset[int]  # ISO weekdays, 1 = Monday … 7 = Sunday
    starts: time
    ends: time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.working_days:
            raise ValueError("A business schedule needs at least one working day.")
        if self.ends <= self.starts:
            raise ValueError("A working day must end after it starts.")

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The working window of `day`, as aware datetimes in the schedule's zone."""
        return (
            datetime.combine(day, self.starts, tzinfo=self.zone),
            datetime.combine(day, self.ends, tzinfo=self.zone),
        )


def _utc(moment: datetime) -> datetime:
    # Arithmetic between datetimes sharing a ZoneInfo is wall-clock arithmetic in Python; in UTC
    # it counts the hour lost or gained on a daylight saving change correctly.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Business-hour arithmetic needs time zone aware datetimes.")
    return moment.astimezone(UTC)


def business_seconds_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Working seconds from `start` to `end` (0 when end is not after start)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return 0
    total = timedelta(0)
    day = start.astimezone(schedule.zone).date()
    last = end.astimezone(schedule.zone).date()
    while day <= last:
        if schedule.is_working_day(day):
            opens, closes = (_utc(edge) for edge in schedule.window(day))
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return int(total.total_seconds())


def add_business_seconds(schedule: Schedule, start: datetime, seconds: int) -> datetime:
    """The moment `seconds` working seconds after `start`, in the schedule's zone. Outside
    working hours the clock waits for the next opening; a target that uses up a working day
    exactly is due at its close."""
    moment = _utc(start)
    remaining = timedelta(seconds=max(0, seconds))
    day = moment.astimezone(schedule.zone).date()
    for _ in range(MAX_DAYS_SEARCHED):
        if schedule.is_working_day(day):
            opens, closes = (_utc(edge) for edge in schedule.window(day))
            begin = max(opens, moment)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(schedule.zone)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("No working time found within three years; check the schedule.")
