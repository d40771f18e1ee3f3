"""The working-day calendar (DESIGN.md, "Time limits"): deadlines in working days and working hours.

Which days are working days, in this order:
1. the district's holiday table (`CalendarDay`, kept by the district office on the 节假日安排 page) wins;
2. otherwise the chinese-calendar package, for the years it knows (1.11: 2004–2026). It carries each year's
   国务院办公厅关于××××年部分节假日安排的通知: public holidays and the make-up working days (调休) that
   move a weekend day into the working week;
3. otherwise Monday to Friday. A year that neither knows gets the system check warning shequ.W001.

Office hours are the settings' OFFICE_HOURS (SHEQU_OFFICE_HOURS, default 09:00–12:00 and 13:30–17:30).
All times are Asia/Shanghai: aware datetimes in any zone are accepted and results are in Asia/Shanghai.
Naive datetimes are refused, since "09:00" means nothing without a zone.

Conventions:
- `add_working_days(start, n)`: the start's own calendar day is never counted (民法典第二百零一条：按照
  年、月、日计算期间的，开始的当日不计入，自下一日开始计算), whether the start falls inside office hours,
  after them or on a day off; counting starts the next day and skips days off (行政许可法第八十二条: 期限以
  工作日计算，不含法定节假日). The deadline is the end of office hours on the n-th working day, so that
  the last day is whole. With 1 working day and an ordinary week: received Friday 10:00, Friday 20:00 or
  Saturday → Monday 17:30; received Monday 08:00 → Tuesday 17:30. n = 0 means "by the end of the current
  office day": the start's day if it is a working day whose office hours have not ended, else the next
  working day.
- `add_working_hours(start, h)`: counts office time only. A start outside office hours begins counting
  when office hours next begin; a limit that is used up exactly when a period ends is due at that end
  (12:00, not 13:30). h = 0 returns the start.
- `working_time_between(start, end)`: the office time in [start, end); negative when end < start, so that
  `working_time_between(now, deadline)` is the remaining time and goes below zero once overdue, and
  `working_time_between(received, now) / working_time_between(received, deadline)` is the share used
  (the 80% warning). working_time_between(s, add_working_hours(s, h)) == h hours for every s.

Performance: the holiday table is small (some 30 rows a year) and is loaded whole, in one query, into a
per-process snapshot that also holds the ordinals of the working days of every year asked about, so a
deadline is a bisection, not a walk over dates and never a query. The snapshot is dropped by the services
below when the table changes in this process, and another process (a huey consumer, another gunicorn
worker) notices a change within RECHECK_SECONDS by comparing the table's row count and latest update
(one aggregate query)."""

from __future__ import annotations

import datetime
import threading
import time
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core import checks
from django.db import DatabaseError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import create_record, update_record
from .models import CalendarDay, CalendarDayKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
# China has kept UTC+8 without daylight saving since 1991, so the wall-clock arithmetic below (09:00 + 3 h
# = 12:00 on the same day) is also elapsed time.
RECHECK_SECONDS = 60
DAY_US = 24 * 3600 * 1_000_000

# chinese-calendar raises NotImplementedError outside the years its constants cover.
PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


# Days --------------------------------------------------------------------------------------------------


def _package_workday(day: datetime.date) -> bool | None:
    if day.year not in PACKAGE_YEARS:
        return None
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year inside the range with no data (never so far): fall back
        return None


class _Calendar:
    """One snapshot of the holiday table, with the working days of the years asked about so far."""

    def __init__(self, overrides: dict[datetime.date, bool], fingerprint: Any):
        self.overrides = overrides
        self.table_years = frozenset(day.year for day in overrides)
        self.fingerprint = fingerprint
        self.checked_at = time.monotonic()
        self._lock = threading.Lock()
        # (first year, last year, sorted ordinals of the working days, the same as a set). Replaced whole
        # when extended, so that readers never see half of an extension.
        self._index: tuple[int, int, list[int], frozenset[int]] = (0, -1, [], frozenset())

    def _decide(self, day: datetime.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        package = _package_workday(day)
        return package if package is not None else day.weekday() < 5

    def _working_days_of(self, year: int) -> list[int]:
        first = datetime.date(year, 1, 1).toordinal()
        last = datetime.date(year, 12, 31).toordinal()
        return [n for n in range(first, last + 1) if self._decide(datetime.date.fromordinal(n))]

    def index(self, first_year: int, last_year: int) -> tuple[list[int], frozenset[int]]:
        """The working days (as ordinals) of at least the years first_year..last_year."""
        low, high, ordinals, members = self._index
        if low <= first_year and last_year <= high:
            return ordinals, members
        with self._lock:
            low, high, ordinals, members = self._index
            if high < low:  # empty
                low, high = first_year, first_year - 1
            before = [n for year in range(first_year, low) for n in self._working_days_of(year)]
            after = [n for year in range(high + 1, last_year + 1) for n in self._working_days_of(year)]
            ordinals = before + ordinals + after
            self._index = (min(low, first_year), max(high, last_year), ordinals, frozenset(ordinals))
            return ordinals, self._index[3]

    def is_working_day(self, day: datetime.date) -> bool:
        return day.toordinal() in self.index(day.year, day.year)[1]

    def nth_working_day_after(self, day: datetime.date, n: int) -> datetime.date:
        """The n-th working day (n >= 1) strictly after `day`."""
        last_year = day.year + n // 200 + 1  # a year has some 250 working days; extended below if not
        while True:
            ordinals, _members = self.index(day.year, last_year)
            position = bisect_right(ordinals, day.toordinal()) + n - 1
            if position < len(ordinals):
                return datetime.date.fromordinal(ordinals[position])
            last_year += 1 + n // 200

    def working_days_between(self, first: datetime.date, last: datetime.date) -> int:
        """How many working days lie strictly between two dates (first < last)."""
        ordinals, _members = self.index(first.year, last.year)
        return bisect_left(ordinals, last.toordinal()) - bisect_right(ordinals, first.toordinal())


_current: _Calendar | None = None
_loading = threading.Lock()


def _fingerprint() -> tuple[int, Any]:
    found = CalendarDay.objects.aggregate(rows=Count("id"), latest=Max("updated_at"))
    return found["rows"], found["latest"]


def _calendar() -> _Calendar:
    global _current
    current = _current
    if current is not None and time.monotonic() - current.checked_at < RECHECK_SECONDS:
        return current
    with _loading:
        current = _current
        fingerprint = _fingerprint()
        if current is not None and current.fingerprint == fingerprint:
            current.checked_at = time.monotonic()
            return current
        # Not a user's read (no restrict): the calendar is the same for everyone and is read by jobs too.
        rows = CalendarDay.objects.values_list("date", "kind")
        current = _Calendar({day: kind == CalendarDayKind.WORKDAY for day, kind in rows}, fingerprint)
        _current = current
        return current


def clear_cache() -> None:
    """Forget the snapshot: the next calculation reloads the holiday table."""
    global _current
    _current = None


def known_years() -> list[int]:
    """The years whose holiday arrangement is known: chinese-calendar's and those with rows in the table."""
    return sorted(set(PACKAGE_YEARS) | _calendar().table_years)


def is_working_day(day: datetime.date | datetime.datetime) -> bool:
    """Whether the day (an aware datetime: its day in Asia/Shanghai) is a working day."""
    if isinstance(day, datetime.datetime):
        day = _local(day).date()
    return _calendar().is_working_day(day)


# Office hours --------------------------------------------------------------------------------------------


def _us(moment: datetime.time | datetime.datetime) -> int:
    """Microseconds since midnight."""
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond


@lru_cache(maxsize=8)
def _periods(office_hours: tuple[tuple[datetime.time, datetime.time], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((_us(start), _us(end)) for start, end in office_hours)


def _office() -> tuple[tuple[tuple[int, int], ...], int]:
    """The office periods of a working day in microseconds since midnight, and their total length."""
    periods = _periods(tuple(settings.OFFICE_HOURS))
    return periods, sum(end - start for start, end in periods)


def _office_time(periods, since: int, until: int) -> int:
    """Office time of one working day between two times of that day (microseconds)."""
    return sum(max(0, min(end, until) - max(start, since)) for start, end in periods)


def _local(moment: datetime.datetime) -> datetime.datetime:
    if not isinstance(moment, datetime.datetime):
        raise TypeError(f"expected an aware datetime, got {type(moment).__name__}")
    if timezone.is_naive(moment):
        raise ValueError("naive datetime: working-day arithmetic needs an aware datetime (Asia/Shanghai)")
    return moment.astimezone(SHANGHAI)


def _at(day: datetime.date, us: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=SHANGHAI) + datetime.timedelta(
        microseconds=us
    )


# Deadlines -----------------------------------------------------------------------------------------------


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """The deadline `days` working days after `start`: the end of office hours on the days-th working day
    after the start's day (the start's own day is not counted; see the module's docstring)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    local = _local(start)
    periods, _daily = _office()
    day_end = periods[-1][1]
    calendar = _calendar()
    day = local.date()
    if days > 0:
        day = calendar.nth_working_day_after(day, days)
    elif not (calendar.is_working_day(day) and _us(local) < day_end):
        day = calendar.nth_working_day_after(day, 1)
    return _at(day, day_end)


def add_working_hours(start: datetime.datetime, hours: float) -> datetime.datetime:
    """The moment when `hours` of office time on working days have passed since `start`."""
    remaining = datetime.timedelta(hours=float(hours)) // datetime.timedelta(microseconds=1)
    if remaining < 0:
        raise ValueError("hours must be >= 0")
    local = _local(start)
    if remaining == 0:
        return local
    periods, daily = _office()
    calendar = _calendar()
    day, now = local.date(), _us(local)
    if calendar.is_working_day(day):
        for period_start, period_end in periods:
            if period_end <= now:
                continue
            begin = max(period_start, now)
            if remaining <= period_end - begin:
                return _at(day, begin + remaining)
            remaining -= period_end - begin
    # Whole office days first, then the rest (0 < rest <= one day) inside the last day.
    whole_days = (remaining - 1) // daily
    remaining -= whole_days * daily
    day = calendar.nth_working_day_after(day, whole_days + 1)
    for period_start, period_end in periods:
        if remaining <= period_end - period_start:
            return _at(day, period_start + remaining)
        remaining -= period_end - period_start
    raise AssertionError("unreachable: the rest fits in one office day")


def working_time_between(start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    """Office time on working days in [start, end); negative when end is before start."""
    first, last = _local(start), _local(end)
    if last < first:
        return -working_time_between(end, start)
    periods, daily = _office()
    calendar = _calendar()
    first_day, last_day = first.date(), last.date()
    if first_day == last_day:
        total = _office_time(periods, _us(first), _us(last)) if calendar.is_working_day(first_day) else 0
    else:
        total = calendar.working_days_between(first_day, last_day) * daily
        if calendar.is_working_day(first_day):
            total += _office_time(periods, _us(first), DAY_US)
        if calendar.is_working_day(last_day):
            total += _office_time(periods, 0, _us(last))
    return datetime.timedelta(microseconds=total)


# Writes (the 节假日安排 pages call these) ----------------------------------------------------------------


def _district_path() -> str:
    return f"/{settings.DISTRICT_CODE}/"


def _forget_after_write() -> None:
    # Now, for the rest of this transaction, and again after commit, in case another thread reloaded the
    # old table in between.
    clear_cache()
    transaction.on_commit(clear_cache)


@transaction.atomic
def create_calendar_day(
    *, actor, date: datetime.date, kind: str, name: str, note: str = "", reason: str = ""
) -> CalendarDay:
    """Enter a day off or a make-up working day; it applies to every time limit computed afterwards."""
    day = create_record(
        actor=actor,
        model=CalendarDay,
        fields={"date": date, "kind": kind, "name": name, "note": note, "unit_path": _district_path()},
        reason=reason,
    )
    _forget_after_write()
    return day


@transaction.atomic
def update_calendar_day(
    *,
    actor,
    calendar_day: CalendarDay,
    changes: dict[str, Any],
    expected_version: int | None = None,
    reason: str = "",
) -> CalendarDay:
    """Correct a row of the holiday table. Deadlines already stored elsewhere are not recomputed here."""
    day = update_record(
        actor=actor, instance=calendar_day, changes=changes, expected_version=expected_version, reason=reason
    )
    _forget_after_write()
    return day


# The system check ----------------------------------------------------------------------------------------


def _today() -> datetime.date:
    return timezone.localdate()


def unknown_years() -> list[int]:
    """This year and next year, where neither chinese-calendar nor the holiday table knows the arrangement."""
    today = _today()
    candidates = [year for year in (today.year, today.year + 1) if year not in PACKAGE_YEARS]
    if not candidates:
        return []
    entered = set(CalendarDay.objects.filter(date__year__in=candidates).values_list("date__year", flat=True))
    return [year for year in candidates if year not in entered]


def check_calendar_years(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """shequ.W001: this year's or next year's holiday arrangement is unknown (DESIGN.md, "Time limits").
    The State Council publishes the next year's arrangement late in the year; chinese-calendar follows with
    a release, so until one is installed the district office enters the year in the table."""
    try:
        years = unknown_years()
    except DatabaseError:  # not migrated yet, or no database: nothing can have been entered
        today = _today()
        years = [year for year in (today.year, today.year + 1) if year not in PACKAGE_YEARS]
    return [
        checks.Warning(
            _(
                "%(year)s年的法定节假日安排未知：期限将只按周末和节假日表计算；请区地区办在国务院公布安排后录入"
            )
            % {"year": year},
            hint=_("在“节假日安排”页面录入该年的放假日和调休上班日，或升级 chinesecalendar 包。"),
            id="shequ.W001",
        )
        for year in years
    ]
