"""Cases in Excel: a filtered list exports; a 12345 hotline export imports as cases at 受理, once."""

import io

from django.urls import reverse
from openpyxl import Workbook, load_workbook

from shequ.cases.choices import Stage
from shequ.cases.models import Case
from shequ.core.models import AuditEntry
from shequ.core.tests.test_excel import content
from shequ.registry.tests.test_import import run

HEADER = [
    "外部工单号",
    "受理时间",
    "问题类别",
    "问题描述",
    "居民区",
    "地址",
    "紧急程度",
    "反映人",
    "联系电话",
]


def hotline_file(rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "12345.xlsx"
    return buffer


ROWS = [
    [
        "12345-0001",
        "2026-03-02 10:15",
        "暴露垃圾",
        "弄堂口垃圾堆放两天未清运",
        "新安居委会",
        "江宁路1弄",
        "一般",
        "王先生",
        "13800138001",
    ],
    [
        "12345-0002",
        "2026-03-02 11:00",
        "S0202",
        "楼上夜间噪声",
        "310106006002",
        "江宁路1弄3号",
        "紧急",
        "",
        "",
    ],
]


def test_a_hotline_export_becomes_cases_at_reported_once(world, categories):
    user = world.user("jiangning")
    outcome = run("cases", user, hotline_file(ROWS))
    assert outcome.ok, [p.as_dict() for p in outcome.problems]
    assert outcome.rows_created == 2
    case = Case.objects.get(external_code="12345-0001")
    assert case.stage == Stage.REPORTED and case.source == "hotline" and case.code.startswith("JA2026-")
    assert case.category.code == "E0101" and case.unit == world.jn.area and case.rule is not None
    assert case.reporter_phone_masked == "138****8001" and "13800138001" not in case.reporter_phone_cipher
    assert case.events.get().action == "report"
    assert (
        AuditEntry.objects.filter(object_id=str(case.pk), content_type__model="case", action="import").count()
        == 1
    )
    again = run("cases", user, hotline_file(ROWS))
    assert (again.rows_created, again.rows_updated) == (0, 0)
    assert Case.objects.filter(external_code__startswith="12345-").count() == 2


def test_bad_rows_write_nothing_and_are_named(world, categories):
    rows = [*ROWS, ["12345-0003", "昨天", "不存在的类别", "", "石门一路居委会", "", "一般", "", "123"]]
    outcome = run("cases", world.user("jiangning"), hotline_file(rows))
    columns = {(p.row, p.column) for p in outcome.problems}
    assert (4, "受理时间") in columns and (4, "问题类别") in columns
    assert not Case.objects.filter(external_code__startswith="12345-").exists()


def test_a_street_cannot_import_cases_of_another_street(world, categories):
    rows = [["12345-0009", "2026-03-02 10:15", "暴露垃圾", "垃圾", world.sm.area.code, "", "一般", "", ""]]
    outcome = run("cases", world.user("jiangning"), hotline_file(rows))
    assert not outcome.ok and "无权" in outcome.problems[0].message


def test_the_export_has_exactly_the_filtered_cases_masked(world, categories, new_case, client):
    mine = new_case()
    other = new_case(unit=world.sm.area, building_group=world.sm.group, actor="shimen", code="E0101")
    client.force_login(world.user("district"))
    response = client.get(reverse("excel-export", args=["cases"]), {"street": "310106006"})
    rows = list(load_workbook(io.BytesIO(content(response)), read_only=True).worksheets[0].values)
    codes = {row[1] for row in rows[1:]}
    assert mine.code in codes and other.code not in codes
    assert "13800138000" not in repr(rows) and "138****8000" in repr(rows)
