"""The home page is each role's to-do list (issue 9, item 5): a street dispatcher, a department handler, a
committee clerk and the district office each see the work they do with its count; clicking an item opens
the list with exactly that many rows; the unread count in the menu bar leads to the notifications."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# The items each role must find on its home page (more may follow as other apps add theirs).
EXPECTED = {
    "jiangning": ["待立案", "待派遣", "派给本单位", "待核查", "已超时", "督办中", "未读通知"],
    "fangguan": ["派给本单位", "待答复约请", "已超时", "督办中", "未读通知"],
    "xinan": ["派给本单位", "已超时", "督办中", "未读通知"],
    "district": ["待立案", "待派遣", "待核查", "已超时", "督办中", "未读通知"],
}


def todo_counts(page) -> dict[str, int]:
    items = page.locator("#todo .todo-item")
    counts = {}
    for index in range(items.count()):
        item = items.nth(index)
        counts[item.locator(".todo-title").inner_text().strip()] = int(
            item.locator(".todo-count").inner_text()
        )
    return counts


def listed(page) -> int:
    total = page.get_by_text(re.compile(r"^共 \d+ 条$")).first
    expect(total).to_be_visible()
    return int(re.search(r"\d+", total.inner_text()).group())


@pytest.mark.parametrize("username", list(EXPECTED))
def test_the_home_page_leads_to_each_kind_of_work(journey, username):
    person = journey(username)
    page = person.page
    expect(page.locator("#todo")).to_be_visible()
    person.step("首页待办")
    counts = todo_counts(page)
    for title in EXPECTED[username]:
        assert title in counts, f"{username} misses {title} on the home page: {counts}"

    # The most urgent waiting item comes first: what has work waiting precedes what has none.
    values = list(counts.values())
    assert values == sorted(values, key=lambda count: count == 0)

    # Every item with work waiting opens the list of exactly that work.
    for title in [title for title, count in counts.items() if count and title != "未读通知"][:3]:
        with page.expect_navigation():
            person.press(page.locator("#todo .todo-item", has_text=title).first)
        person.step(f"{title}列表")
        assert listed(page) == counts[title], f"{username}: {title}"
        page.go_back()
        page.wait_for_load_state()
        expect(page.locator("#todo")).to_be_visible()

    # The bell in the menu bar: the unread notifications, as many as it says.
    bell = page.locator("#unread-notifications")
    expect(bell).to_be_visible()
    badge = bell.locator(".unread-count")
    unread = int(badge.inner_text()) if badge.count() else 0
    assert unread == counts["未读通知"]
    with page.expect_navigation():
        person.press(bell)
    expect(page.get_by_role("heading", name="通知")).to_be_visible()
    person.step("未读通知")
    assert listed(page) == unread


def test_the_menu_bar_names_the_person(journey):
    person = journey("jiangning")
    expect(person.page.locator(".navbar-person")).to_have_text("江宁路街道 李科员")
    assert "jiangning" not in person.page.locator("header").inner_text()
    person.step("菜单栏")


def test_a_record_history_reads_as_people_write_it(journey):
    """A clerk changes a building's floors and elevator; its page's history names the fields, says 是/否, the
    clerk as "单位 姓名" and the time in local time — no attribute names, no True/False."""
    person = journey("xinan")
    page = person.page
    person.menu("基础要素", "楼栋")
    page.wait_for_url(re.compile(r"/buildings/"))
    person.step("楼栋列表")
    with page.expect_navigation():
        person.press(page.locator("#list-body table a[href^='/buildings/']").first)
    person.step("楼栋")
    with page.expect_navigation():
        person.press(page.get_by_role("link", name="编辑", exact=True))
    floors = page.get_by_label("层数")
    floors.fill(str(int(floors.input_value() or "6") + 1))
    elevator = page.get_by_label("有电梯")
    had_elevator = elevator.is_checked()
    elevator.set_checked(not had_elevator)
    person.step("编辑楼栋")
    with page.expect_navigation():
        person.press(page.get_by_role("button", name="保存"))
    history = page.locator(".card", has_text="修改记录")
    expect(history).to_be_visible()
    person.step("修改记录")
    latest = history.locator(".history-entry").first
    expect(latest).to_contain_text("层数：")
    expect(latest).to_contain_text("有电梯：" + ("是 → 否" if had_elevator else "否 → 是"))
    expect(latest).to_contain_text("新安居委会 陈社工")
    expect(latest).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"))
    for raw in ("floors", "has_elevator", "True", "False", "xinan"):
        assert raw not in history.inner_text()


def test_the_audit_log_reads_as_people_write_it(journey):
    person = journey("auditor")
    page = person.page
    person.menu("系统", "审计日志")
    page.wait_for_url(re.compile(r"/audit/"))
    table = page.locator("#list-body table")
    expect(table).to_be_visible(timeout=15_000)
    person.step("审计日志")
    first = table.locator("tbody tr").first
    expect(first).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"))
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", table.inner_text())
