"""The district office's (区地区办) checks (issue 9): the department assessment (部门考评) with its figures and
its Excel download, and the personal-data access log (个人信息查看记录), which shows the office's own look at
a resident's full ID number, with the reason given, as the first row."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import SCREEN_NAMES, follow

pytestmark = pytest.mark.browser


def test_the_district_office_reads_the_assessment_and_the_access_log(journey, screen):
    person = journey("district")
    page = person.page
    person.step("首页")

    # 部门考评: one row per department, with figures, and the same table as an Excel file.
    person.menu("一网统管", "部门考评")
    expect(page.locator(".page-title")).to_contain_text("部门考评")
    table = page.locator("#assessment")
    expect(table).to_be_visible()
    housing = table.locator("tbody tr", has_text="区房管局")
    expect(housing).to_have_count(1)
    cells = housing.locator("td").all_inner_texts()
    assert int(cells[1]) > 0, f"区房管局 received nothing in the default period: {cells}"
    assert re.fullmatch(r"\d+(\.\d)?%|—", cells[2]), cells  # 按时办结率
    expect(table.locator("#assessment-total")).to_contain_text("合计")
    expect(page.get_by_text("尚未到答复时限的约请不计入")).to_be_visible()
    person.step("部门考评")
    # A download ends the navigation that fetched it: chromium reports the request as aborted.
    person.expect_error(r"/cases/assessment/\?.*format=xlsx")
    with page.expect_download() as download:
        person.press(page.get_by_role("link", name="导出 Excel"))
    assert download.value.suggested_filename.endswith(".xlsx")

    # A look at a resident's full ID number, with a reason; then the log that records it.
    reason = f"{SCREEN_NAMES[screen]}核查低保申请材料"
    person.menu("居民", "居民")
    person.step("居民")
    first = page.locator("#list-body tbody tr a[href]").first
    name = first.inner_text().strip()
    follow(person, first)
    follow(person, page.get_by_role("link", name="查看完整信息"))
    page.get_by_label("查看原因").fill(reason)
    follow(person, page.get_by_role("button", name="查看", exact=True))
    expect(page.locator("#revealed-id")).to_be_visible()
    person.step("查看完整信息")

    person.menu("居民", "个人信息查看记录")
    expect(page.locator(".page-title")).to_contain_text("个人信息查看记录")
    row = page.locator("#list-body tbody tr", has_text=reason)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(name)
    person.step("个人信息查看记录")
