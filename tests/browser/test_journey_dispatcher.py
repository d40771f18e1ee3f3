"""A street dispatcher's day in 一网统管 (issue 9): 江宁路街道's jiangning takes a 12345 phone call about
group renting and registers it (登记案件: the area's grid comes chosen with the area), finds the new case
from the home page among the reports waiting to be registered, and 立案并派遣 in one submit — first to
another department without a reason (refused: the message is on the reason field, the chosen unit is
still chosen), then to the department the responsibility list suggests, which the form had chosen. He
prints the 派遣单, then opens the dashboard and clicks a figure through to the list it counts.

Each run names its case after the screen it runs on, so that the desktop and phone runs on the one demo
site never take each other's cases."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import CODE, SCREEN_NAMES, action_card, choose, open_queue

pytestmark = pytest.mark.browser


def go_home(person) -> None:
    person.press(person.page.locator(".navbar-brand"))
    person.page.wait_for_load_state()


def listed(page) -> int:
    total = page.get_by_text(re.compile(r"^共 \d+ 条$")).first
    expect(total).to_be_visible()
    return int(re.search(r"\d+", total.inner_text()).group())


def test_the_dispatcher_registers_a_call_dispatches_it_in_one_submit_and_checks_the_dashboard(
    journey, screen
):
    description = f"{SCREEN_NAMES[screen]}来电：康定路某弄3楼疑似群租，夜间人员进出频繁"
    person = journey("jiangning")
    page = person.page
    person.step("首页")

    # A phone call, registered at the desk ------------------------------------------------------------------
    person.menu("一网统管", "登记案件")
    choose(page.get_by_label("问题类别"), "群租")
    page.get_by_label("问题描述").fill(description)
    choose(page.get_by_label("来源", exact=True), "12345热线")
    with page.expect_response(
        lambda response: "/cases/places/" in response.url and "for=grid" in response.url
    ):
        choose(page.get_by_label("居民区", exact=True), "新安居委会")
    expect(page.get_by_label("网格", exact=True)).not_to_have_value("")  # the area's one grid, chosen with it
    page.get_by_label("反映人电话").fill("13912345678")
    person.step("登记来电")
    person.press(page.get_by_role("button", name="提交"))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text(CODE)
    code = CODE.search(page.locator(".page-title").inner_text()).group()

    # Found again from the home page, among the reports waiting to be registered ----------------------------
    go_home(person)
    open_queue(person, "待立案")
    person.step("待立案")
    person.press(page.get_by_role("link", name=code, exact=True))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text(code)
    expect(page.get_by_text(description)).to_be_visible()

    # 立案并派遣: the responsibility list's department is chosen already ------------------------------------
    form = action_card(page, "立案并派遣")
    assignee = form.get_by_label("承办单位")
    suggested = assignee.locator("option", has_text="职责清单建议")
    expect(suggested).to_have_text("区房管局（职责清单建议）")
    expect(assignee).to_have_value(suggested.get_attribute("value"))
    person.step("立案并派遣")

    # Sent elsewhere without a reason: refused, the message on the field, the choice kept
    choose(assignee, "区城管执法局")
    form.get_by_label("说明").fill("热线转办")
    person.press(form.get_by_role("button", name="立案并派遣"))
    page.wait_for_load_state()
    form = action_card(page, "立案并派遣")
    expect(form.locator(".invalid-feedback")).to_contain_text("区房管局")
    expect(form.get_by_label("承办单位").locator("option:checked")).to_have_text("区城管执法局")
    expect(form.get_by_label("说明")).to_have_value("热线转办")
    expect(page.locator(".page-title")).to_contain_text("受理")  # nothing was written
    person.step("未说明理由")

    # The suggested department, in one submit
    choose(form.get_by_label("承办单位"), "职责清单建议")
    person.press(form.get_by_role("button", name="立案并派遣"))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text("派遣")
    expect(page.get_by_role("alert").filter(has_text="立案并派遣")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("立案")
    expect(timeline).to_contain_text("区房管局")
    person.step("已派遣")

    # The 派遣单 to print
    person.press(page.get_by_role("link", name="打印派遣单"))
    page.wait_for_load_state()
    slip = page.locator("#slip")
    expect(slip).to_contain_text(code)
    expect(slip).to_contain_text("区房管局")
    expect(slip).to_contain_text("139****5678")
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    person.step("派遣单")

    # The dashboard: a figure leads to the list it counts ----------------------------------------------------
    person.menu("一网统管", "数据看板")
    figure = page.locator("[data-figure-link='open']")
    expect(figure).to_be_visible()
    shown = int(figure.locator("[data-figure='open']").inner_text())
    assert shown >= 1
    person.step("数据看板")
    person.press(figure)
    page.wait_for_load_state()
    assert listed(page) == shown
    person.step("当前办理中列表")

    page.go_back()
    page.wait_for_load_state()
    rows = page.locator("#unit-rows a[data-row-link]")
    if rows.count():
        row = rows.first
        shown = int(row.inner_text())
        person.press(row)
        page.wait_for_load_state()
        assert listed(page) == shown
        person.step("分单位列表")
