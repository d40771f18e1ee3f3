"""The working-day calendar (core/workdays.py): holidays and make-up working days, deadlines in working days
and working hours, the district's holiday table, the system check, the cache and its query count.

The dates come from the State Council's notices, which chinese-calendar carries:
- 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）：国庆节、中秋节 10月1日（周三）至
  8日（周三）放假调休，共8天；9月28日（周日）、10月11日（周六）上班。
- 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）：春节 2月15日（周日）至23日（周一）
  放假调休，共9天；2月14日（周六）、2月28日（周六）上班。
2027 is not known to chinese-calendar 1.11. The 2027 rows the tests enter are the statutory days of
《全国年节及纪念日放假办法》（2024年修订）第二条 — 元旦 1月1日; 春节 农历除夕至初三, i.e. 2027-02-05 to 02-08
(正月初一 is 2027-02-06) — without the State Council's 调休, which is what the district office would enter
from the 2027 notice."""

import datetime
import io

import chinese_calendar
import pytest
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ.core import workdays
from shequ.core.models import AuditEntry, CalendarDay, CalendarDayKind
from shequ.core.workdays import (
    SHANGHAI,
    add_working_days,
    add_working_hours,
    is_working_day,
    known_years,
    working_time_between,
)

D = datetime.date
H = datetime.timedelta(hours=1)


def at(year, month, day, hour=0, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of_day(year, month, day) -> datetime.datetime:
    return at(year, month, day, 17, 30)


@pytest.fixture(autouse=True)
def fresh_calendar(db):
    # The snapshot lives as long as the process; each test's rolled-back rows must not outlive the test.
    workdays.clear_cache()
    yield
    workdays.clear_cache()


def enter_2027_statutory_days():
    workdays.create_calendar_day(
        actor=None,
        date=D(2027, 1, 1),
        kind=CalendarDayKind.HOLIDAY,
        name="2027年元旦",
        note="《全国年节及纪念日放假办法》第二条",
    )
    for day in range(5, 9):
        workdays.create_calendar_day(
            actor=None,
            date=D(2027, 2, day),
            kind=CalendarDayKind.HOLIDAY,
            name="2027年春节",
            note="《全国年节及纪念日放假办法》第二条：农历除夕至初三",
        )


# Which days are working days ---------------------------------------------------------------------------


def test_chinese_calendar_carries_the_2025_national_day_notice():
    # The package is the source: if a release changed these, the tests below would be testing the wrong year.
    assert all(not chinese_calendar.is_workday(D(2025, 10, day)) for day in range(1, 9))
    assert chinese_calendar.is_workday(D(2025, 9, 28)) and D(2025, 9, 28).weekday() == 6  # 周日上班
    assert chinese_calendar.is_workday(D(2025, 10, 11)) and D(2025, 10, 11).weekday() == 5  # 周六上班


def test_national_day_2025_is_off_and_its_make_up_sunday_and_saturday_are_working_days():
    assert not any(is_working_day(D(2025, 10, day)) for day in range(1, 9))
    assert is_working_day(D(2025, 9, 28))
    assert is_working_day(D(2025, 10, 11))
    assert not is_working_day(D(2025, 10, 12))
    assert not is_working_day(D(2025, 9, 27))  # an ordinary Saturday


def test_is_working_day_takes_the_shanghai_day_of_an_aware_datetime():
    # 2025-10-10 17:00 UTC is Saturday 11 October 01:00 in Shanghai: a make-up working day.
    assert is_working_day(datetime.datetime(2025, 10, 10, 17, 0, tzinfo=datetime.UTC))
    # 2025-09-30 16:30 UTC is 1 October 00:30 in Shanghai: National Day.
    assert not is_working_day(datetime.datetime(2025, 9, 30, 16, 30, tzinfo=datetime.UTC))


def test_spring_festival_2026_is_off_and_both_make_up_saturdays_work():
    assert not any(is_working_day(D(2026, 2, day)) for day in range(15, 24))
    assert is_working_day(D(2026, 2, 14)) and is_working_day(D(2026, 2, 28))
    assert is_working_day(D(2026, 2, 24))


def test_the_table_wins_over_chinese_calendar():
    workdays.create_calendar_day(actor=None, date=D(2025, 10, 10), kind=CalendarDayKind.HOLIDAY, name="更正")
    workdays.create_calendar_day(actor=None, date=D(2025, 10, 8), kind=CalendarDayKind.WORKDAY, name="更正")
    assert not is_working_day(D(2025, 10, 10))
    assert is_working_day(D(2025, 10, 8))


def test_known_years_are_the_package_years_and_the_years_in_the_table():
    assert known_years()[0] == 2004 and 2026 in known_years() and 2027 not in known_years()
    workdays.create_calendar_day(
        actor=None, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="2027年元旦"
    )
    assert known_years()[-1] == 2027


# Deadlines in working days ---------------------------------------------------------------------------


def test_a_deadline_skips_national_day_2025_and_lands_on_the_make_up_saturday():
    received = at(2025, 9, 30, 10)
    assert add_working_days(received, 1) == end_of_day(2025, 10, 9)
    assert add_working_days(received, 2) == end_of_day(2025, 10, 10)
    assert add_working_days(received, 3) == end_of_day(2025, 10, 11)  # 周六调休上班
    assert add_working_days(received, 4) == end_of_day(2025, 10, 13)


def test_a_make_up_sunday_is_the_first_working_day_after_a_friday():
    assert add_working_days(at(2025, 9, 26, 15), 1) == end_of_day(2025, 9, 28)
    assert add_working_days(at(2025, 9, 26, 15), 2) == end_of_day(2025, 9, 29)


def test_a_deadline_across_spring_festival_2026():
    received = at(2026, 2, 13, 11)  # the Friday before
    assert add_working_days(received, 1) == end_of_day(2026, 2, 14)  # 周六上班
    assert add_working_days(received, 2) == end_of_day(2026, 2, 24)
    assert add_working_days(received, 5) == end_of_day(2026, 2, 27)
    assert add_working_days(received, 6) == end_of_day(2026, 2, 28)  # 周六上班


def test_the_start_day_is_not_counted_wherever_in_the_day_the_start_falls():
    # An ordinary week (2025-11-10 is a Monday): 民法典第二百零一条，开始的当日不计入.
    for received in (
        at(2025, 11, 14, 10),
        at(2025, 11, 14, 20),
        at(2025, 11, 15, 10),
        at(2025, 11, 16, 23, 59),
    ):
        assert add_working_days(received, 1) == end_of_day(2025, 11, 17), received
    assert add_working_days(at(2025, 11, 17, 8), 1) == end_of_day(2025, 11, 18)


def test_zero_working_days_is_the_end_of_the_current_or_next_office_day():
    assert add_working_days(at(2025, 11, 14, 10), 0) == end_of_day(2025, 11, 14)
    assert add_working_days(at(2025, 11, 14, 17, 30), 0) == end_of_day(2025, 11, 17)
    assert add_working_days(at(2025, 11, 15, 10), 0) == end_of_day(2025, 11, 17)


def test_a_deadline_into_2027_falls_back_to_weekends_without_the_table():
    assert add_working_days(at(2026, 12, 31, 10), 1) == end_of_day(2027, 1, 1)  # a Friday
    assert add_working_days(at(2027, 2, 4, 10), 2) == end_of_day(2027, 2, 8)


def test_a_deadline_into_2027_uses_the_table_once_the_district_office_enters_the_year():
    enter_2027_statutory_days()
    assert add_working_days(at(2026, 12, 31, 10), 1) == end_of_day(2027, 1, 4)
    assert add_working_days(at(2027, 2, 4, 10), 2) == end_of_day(2027, 2, 10)
    # A make-up working day in the table counts, even on a Saturday (hypothetical: not from a notice).
    workdays.create_calendar_day(
        actor=None, date=D(2027, 2, 20), kind=CalendarDayKind.WORKDAY, name="测试调休"
    )
    assert add_working_days(at(2027, 2, 19, 10), 1) == end_of_day(2027, 2, 20)


def test_office_hours_come_from_the_settings(settings):
    settings.OFFICE_HOURS = (
        (datetime.time(8, 30), datetime.time(11, 30)),
        (datetime.time(13), datetime.time(17)),
    )
    assert add_working_days(at(2025, 11, 14, 10), 1) == at(2025, 11, 17, 17)
    assert add_working_hours(at(2025, 11, 14, 11), 1) == at(2025, 11, 14, 13, 30)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_working_days(datetime.datetime(2025, 11, 14, 10), 1)
    with pytest.raises(ValueError):
        add_working_days(at(2025, 11, 14, 10), -1)


# Deadlines in working hours --------------------------------------------------------------------------


def test_working_hours_skip_the_lunch_break():
    assert add_working_hours(at(2025, 11, 14, 11), 2) == at(2025, 11, 14, 14, 30)
    assert working_time_between(at(2025, 11, 14, 11), at(2025, 11, 14, 14, 30)) == 2 * H


def test_a_limit_used_up_at_noon_is_due_at_noon_not_after_lunch():
    assert add_working_hours(at(2025, 11, 14, 9), 3) == at(2025, 11, 14, 12)
    assert add_working_hours(at(2025, 11, 14, 9), 7) == at(2025, 11, 14, 17, 30)


def test_working_hours_run_overnight_and_over_the_weekend():
    assert add_working_hours(at(2025, 11, 13, 17), 1) == at(2025, 11, 14, 9, 30)  # Thursday → Friday
    assert add_working_hours(at(2025, 11, 14, 17), 1) == at(2025, 11, 17, 9, 30)  # Friday → Monday
    assert add_working_hours(at(2025, 11, 15, 10), 2) == at(2025, 11, 17, 11)  # from a Saturday
    assert add_working_hours(at(2025, 11, 14, 9), 8) == at(2025, 11, 17, 10)
    assert add_working_hours(at(2025, 11, 14, 9), 14) == at(2025, 11, 17, 17, 30)
    assert working_time_between(at(2025, 11, 14, 17), at(2025, 11, 17, 9, 30)) == H


def test_working_hours_use_the_make_up_saturday_and_skip_the_holiday():
    assert add_working_hours(at(2025, 10, 10, 16), 3) == at(2025, 10, 11, 10, 30)
    assert add_working_hours(at(2025, 9, 30, 16), 3) == at(2025, 10, 9, 10, 30)
    assert working_time_between(at(2025, 9, 30, 16), at(2025, 10, 9, 10, 30)) == 3 * H


def test_working_time_is_negative_once_the_deadline_has_passed():
    deadline = add_working_days(at(2025, 11, 14, 10), 1)
    assert working_time_between(at(2025, 11, 18, 10), deadline) == -H  # Tuesday 09:00–10:00


def test_working_time_over_months_counts_whole_days():
    # October 2025: 9, 10, 11 (the make-up Saturday), then three whole weeks from the 13th: 18 working days.
    assert working_time_between(at(2025, 10, 1), at(2025, 11, 1)) == 18 * 7 * H


# Properties ------------------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime.datetime(2004, 1, 1),
    max_value=datetime.datetime(2029, 12, 31),
    timezones=st.just(SHANGHAI),
)
quiet = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@quiet
@given(start=starts, days=st.integers(min_value=0, max_value=300))
def test_a_deadline_in_working_days_is_monotonic_and_on_a_working_day(start, days):
    deadline = add_working_days(start, days)
    later = add_working_days(start, days + 1)
    assert deadline < later if days else deadline <= later
    assert deadline > start or days == 0
    for moment in (deadline, later):
        assert is_working_day(moment.date()) and moment.timetz() == datetime.time(17, 30, tzinfo=SHANGHAI)


@st.composite
def office_moments(draw):
    start = draw(starts)
    if not is_working_day(start.date()):
        start = add_working_days(start, 0).replace(hour=9, minute=0)
    period_start, period_end = draw(st.sampled_from(((9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60 + 30))))
    minute = draw(st.integers(min_value=period_start, max_value=period_end - 1))
    second = draw(st.integers(min_value=0, max_value=59))
    return start.replace(hour=minute // 60, minute=minute % 60, second=second, microsecond=0)


hours = st.floats(min_value=0, max_value=2000, allow_nan=False, allow_infinity=False)


@quiet
@given(start=office_moments(), hours=hours)
def test_working_time_to_a_deadline_in_working_hours_is_those_hours(start, hours):
    assert working_time_between(start, add_working_hours(start, hours)) == datetime.timedelta(hours=hours)


@quiet
@given(start=starts, hours=hours)
def test_the_same_holds_from_any_moment_off_hours_included(start, hours):
    deadline = add_working_hours(start, hours)
    assert deadline >= start
    assert working_time_between(start, deadline) == datetime.timedelta(hours=hours)


# The cache and its queries ---------------------------------------------------------------------------


def test_an_edit_of_the_table_invalidates_the_cache():
    assert is_working_day(D(2027, 1, 1))  # a Friday, 2027 unknown
    day = workdays.create_calendar_day(
        actor=None, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦"
    )
    assert not is_working_day(D(2027, 1, 1))
    workdays.update_calendar_day(actor=None, calendar_day=day, changes={"date": D(2027, 1, 4)})
    assert is_working_day(D(2027, 1, 1)) and not is_working_day(D(2027, 1, 4))


def test_another_process_edit_is_seen_after_the_recheck_interval(monkeypatch):
    day = workdays.create_calendar_day(
        actor=None, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦"
    )
    assert not is_working_day(D(2027, 1, 1))
    # As another process would: the row changes, this process's snapshot is not told.
    CalendarDay.objects.filter(pk=day.pk).update(
        kind=CalendarDayKind.WORKDAY, updated_at=day.updated_at + datetime.timedelta(seconds=1)
    )
    assert not is_working_day(D(2027, 1, 1)), "within the interval the snapshot is kept"
    monkeypatch.setattr(workdays, "RECHECK_SECONDS", 0)
    assert is_working_day(D(2027, 1, 1))


def deadlines(count: int) -> None:
    for number in range(count):
        start = at(2025, 1, 1, 9) + datetime.timedelta(hours=number * 17)  # spread over 2025–2027
        add_working_days(start, number % 20)
        add_working_hours(start, number % 40)
        working_time_between(start, start + datetime.timedelta(days=number % 30))


def test_the_query_count_does_not_grow_with_the_number_of_deadlines():
    enter_2027_statutory_days()
    workdays.clear_cache()
    with CaptureQueriesContext(connection) as few:
        deadlines(10)
    workdays.clear_cache()
    with CaptureQueriesContext(connection) as many:
        deadlines(1000)
    assert len(few) == len(many) <= 2  # the table's fingerprint and its rows, once


# The system check ------------------------------------------------------------------------------------


def test_the_check_warns_about_an_unknown_year_until_the_table_has_rows_for_it(monkeypatch):
    monkeypatch.setattr(workdays, "_today", lambda: D(2026, 11, 29))
    warnings = workdays.check_calendar_years()
    assert [warning.id for warning in warnings] == ["shequ.W001"]
    assert warnings[0].level == checks.WARNING
    assert warnings[0].msg == (
        "2027年的法定节假日安排未知：期限将只按周末和节假日表计算；请区地区办在国务院公布安排后录入"
    )
    workdays.create_calendar_day(
        actor=None, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="2027年元旦"
    )
    assert workdays.check_calendar_years() == []


def test_the_check_names_this_year_and_next_when_both_are_unknown(monkeypatch):
    monkeypatch.setattr(workdays, "_today", lambda: D(2030, 3, 1))
    assert ["2030年" in w.msg or "2031年" in w.msg for w in workdays.check_calendar_years()] == [True, True]
    monkeypatch.setattr(workdays, "_today", lambda: D(2025, 6, 1))
    assert workdays.check_calendar_years() == []


def test_the_warning_shows_in_the_check_command(monkeypatch):
    monkeypatch.setattr(workdays, "_today", lambda: D(2026, 11, 29))
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    assert "shequ.W001" in err.getvalue() and "2027年的法定节假日安排未知" in err.getvalue()


# The 节假日安排 pages ----------------------------------------------------------------------------------


def test_the_district_office_enters_a_holiday_and_the_deadline_moves(world, client):
    client.force_login(world.user("district"))
    received = at(2027, 2, 4, 10)
    assert add_working_days(received, 1) == end_of_day(2027, 2, 5)
    response = client.post(
        reverse("calendarday-add"),
        {"date": "2027-02-05", "kind": "holiday", "name": "2027年春节", "note": "国务院办公厅通知"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?year=2027")
    assert add_working_days(received, 1) == end_of_day(2027, 2, 8)
    entry = AuditEntry.objects.get(object_repr__startswith="2027-02-05")
    assert entry.actor == world.users["district"] and entry.unit_path == "/310106/"


def test_a_date_already_in_the_table_is_refused_with_a_message(world, client):
    client.force_login(world.user("district"))
    response = client.post(
        reverse("calendarday-add"), {"date": "2027-01-01", "kind": "holiday", "name": "重复"}
    )
    assert response.status_code == 200
    assert "这一天已在节假日表中" in response.content.decode()


def test_the_list_filters_by_year_and_says_which_years_are_unknown(world, client, monkeypatch):
    monkeypatch.setattr(workdays, "_today", lambda: D(2027, 6, 1))
    workdays.create_calendar_day(
        actor=None, date=D(2026, 10, 1), kind=CalendarDayKind.HOLIDAY, name="2026国庆"
    )
    client.force_login(world.user("jiangning"))  # street staff read the table
    page = client.get(reverse("calendarday-list"), {"year": 2027}).content.decode()
    assert "2027年元旦" in page and "2026国庆" not in page
    assert "2028年的法定节假日安排未知" in page and "2027年的法定节假日安排未知" not in page


def test_the_district_office_corrects_a_row(world, client):
    client.force_login(world.user("district"))
    day = world.calendar_day
    response = client.post(
        reverse("calendarday-edit", args=[day.pk]),
        {
            "date": "2027-01-01",
            "kind": "workday",
            "name": "2027年元旦",
            "version": day.version,
            "reason": "测试",
        },
    )
    assert response.status_code == 302
    assert is_working_day(D(2027, 1, 1))
    assert CalendarDay.objects.get(pk=day.pk).version == day.version + 1
