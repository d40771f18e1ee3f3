"""The change history people read (issue 9, item 7): on a record's page and at /audit/, field names instead
of attribute names, choice labels instead of codes, related records by name, people as "单位 姓名", local
time written the Chinese way, 是/否 for booleans; related records resolved in bulk."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequ.cases import services as cases
from shequ.core import display
from shequ.core.audit import history_for
from shequ.registry import services as registry
from tests.world import make_case_world


@pytest.fixture
def dispatched(world):
    """A case 江宁路's dispatcher sent to 区房管局 (tests.world)."""
    return make_case_world(world)["jn"].case


def changes_of(entry) -> dict[str, tuple[str, str]]:
    return {change.label: (change.old, change.new) for change in entry.readable_changes}


def test_a_dispatch_reads_as_stage_labels_and_the_department_by_name(world, dispatched):
    entries = list(history_for(dispatched))
    dispatch = next(entry for entry in entries if "承办单位" in changes_of(entry))
    assert changes_of(dispatch)["环节"] == ("立案", "派遣")
    assert changes_of(dispatch)["承办单位"] == ("—", "区房管局")
    assert dispatch.person == "江宁路街道 李科员"


def test_times_are_local_and_written_the_chinese_way(world, dispatched):
    entries = list(history_for(dispatched))
    deadline = next(
        change for entry in entries for change in entry.readable_changes if change.label == "本环节时限"
    )
    local = timezone.localtime(cases.Case.objects.get(pk=dispatched.pk).stage_deadline)
    assert deadline.new == f"{local:%Y}年{local.month}月{local.day}日 {local:%H:%M}"
    assert "T" not in deadline.new and "+" not in deadline.new


def test_booleans_read_as_yes_and_no(world):
    building = world.jn.building
    registry.update_building(actor=world.user("jiangning"), building=building, changes={"has_elevator": True})
    (entry,) = [entry for entry in history_for(building) if entry.action == "update"]
    assert changes_of(entry)["有电梯"] == ("否", "是")
    assert entry.person == "江宁路街道 李科员"


def test_the_version_counter_is_not_a_change(world):
    estate = world.jn.estate
    registry.update_estate(actor=world.user("xinan"), estate=estate, changes={"households": 301})
    (entry,) = [entry for entry in history_for(estate) if entry.action == "update"]
    assert changes_of(entry) == {"户数": ("300", "301")}
    assert entry.person == "新安居委会 陈社工"


def test_a_record_written_by_the_system_names_the_system(world):
    (entry,) = history_for(world.jn.estate)
    assert entry.person == "系统"


def test_related_records_are_looked_up_once_per_kind_not_per_row(world, dispatched):
    actor = world.user("jiangning")
    for number in range(6):
        registry.update_building(
            actor=actor,
            building=world.jn.building,
            changes={"floors": 7 + number, "has_elevator": number % 2 == 0},
        )
    with CaptureQueriesContext(connection) as few:
        list(history_for(world.jn.building))
    with CaptureQueriesContext(connection) as case_history:
        list(history_for(dispatched))
    # The entries, the actors (users and their units): no query per entry.
    assert len(few) <= 3
    # …and one more per kind of related record named (units, the responsibility rule).
    assert len(case_history) <= 6


def test_the_record_page_shows_the_readable_history(client, world):
    building = world.jn.building
    registry.update_building(actor=world.user("jiangning"), building=building, changes={"has_elevator": True})
    client.force_login(world.user("xinan"))
    page = client.get(building.get_absolute_url()).content.decode()
    assert "有电梯：</span>否 → 是" in page
    assert "has_elevator" not in page
    assert "江宁路街道 李科员" in page


def test_the_audit_search_shows_the_readable_history(client, world, dispatched):
    client.force_login(world.user("auditor"))
    page = client.get("/audit/").content.decode()
    assert "承办单位：</span>— → 区房管局" in page
    assert "环节：</span>立案 → 派遣" in page
    assert "stage:" not in page and "assignee" not in page
    assert "江宁路街道 李科员" in page


def test_display_helpers():
    assert display.yes_no(True) == "是" and display.yes_no(False) == "否" and display.yes_no(None) == "—"
    moment = datetime.datetime(2026, 12, 2, 16, 5, tzinfo=datetime.UTC)
    assert display.local_datetime(moment) == "2026年12月3日 00:05"
    assert display.plain(False) == "否" and display.plain("") == "—" and display.plain(7) == 7


def test_the_audit_page_costs_the_same_queries_for_more_entries(client, world, dispatched):
    client.force_login(world.user("auditor"))
    with CaptureQueriesContext(connection) as before:
        client.get("/audit/")
    actor = world.user("jiangning")
    for number in range(5):
        registry.update_building(actor=actor, building=world.jn.building, changes={"floors": 10 + number})
        registry.update_estate(actor=actor, estate=world.jn.estate, changes={"households": 400 + number})
    with CaptureQueriesContext(connection) as after:
        client.get("/audit/")
    assert len(after) == len(before)


def test_the_audit_search_filters_read_in_chinese(client, world):
    client.force_login(world.user("auditor"))
    page = client.get("/audit/").content.decode()
    form = page.split('id="filters"')[1].split("</form>")[0]
    assert form.count('<option value="" selected>全部</option>') == 2
    assert ">楼栋</option>" in form and ">案件</option>" in form
    assert "---------" not in form and " | " not in form
