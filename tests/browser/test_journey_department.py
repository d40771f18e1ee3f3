"""A department handler's day, and the street's side that gives it work (issue 9): 江宁路街道's dispatcher
registers two 群租 reports and sends them to 区房管局 (the responsibility list's choice), then summons
区房管局 about both and prints the 约请函; 区房管局's handler finds the cases from the home page, handles one
with a photo, returns the other (first without a reason: the message is on the field; then with one:
back on the department's own queue with the case named), and answers the summons.

The demo district holds no case waiting for 区房管局 to accept (its cases are being handled or closed), so
the street's dispatcher makes them first, through the pages. Each run names its cases after the screen
it runs on, so that the desktop and phone runs on the one demo site never take each other's cases."""

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.steps import CODE, SCREEN_NAMES, action_card, follow, search_queue

pytestmark = pytest.mark.browser


def small_png(folder: Path) -> Path:
    path = folder / "处置后.png"
    Image.new("RGB", (64, 48), (40, 140, 90)).save(path, format="PNG")
    return path


def open_todo(person, title: str, area: str, entry: str) -> None:
    """An item of the home page's to-do list; until a role's home page lists it, the menu entry."""
    page = person.page
    item = page.locator("#todo .todo-item", has_text=title)
    if item.count():
        follow(person, item.first)
    else:
        person.menu(area, entry)


def go_home(person) -> None:
    follow(person, person.page.locator(".navbar-brand"))


def case_code(page) -> str:
    return CODE.search(page.locator(".page-title").inner_text()).group()


def report_and_dispatch(person, description: str) -> str:
    """The street dispatcher registers a report at a desk and sends it where the responsibility list says."""
    page = person.page
    person.menu("一网统管", "登记案件")
    category = page.get_by_label("问题类别")
    category.select_option(category.locator("option", has_text="群租").first.get_attribute("value"))
    page.get_by_label("问题描述").fill(description)
    area = page.get_by_label("居民区")
    area.select_option(area.locator("option", has_text="新安居委会").first.get_attribute("value"))
    person.step("登记案件")
    follow(person, page.get_by_role("button", name="提交"))
    expect(page.locator(".page-title")).to_contain_text(CODE)
    code = case_code(page)
    one_submit = action_card(page, "立案并派遣")
    if one_submit.count():
        expect(one_submit.get_by_label("承办单位")).to_have_value(
            one_submit.get_by_label("承办单位")
            .locator("option", has_text="区房管局")
            .first.get_attribute("value")
        )
        person.step("立案并派遣")
        follow(person, one_submit.get_by_role("button", name="立案并派遣"))
    else:  # 立案, then 派遣
        follow(person, action_card(page, "立案").get_by_role("button", name="立案"))
        form = action_card(page, "派遣")
        assignee = form.get_by_label("承办单位")
        assignee.select_option(assignee.locator("option", has_text="区房管局").first.get_attribute("value"))
        follow(person, form.get_by_role("button", name="派遣"))
    expect(page.locator(".page-title")).to_contain_text("派遣")
    expect(page.locator("#timeline")).to_contain_text("区房管局")
    return code


def test_the_street_summons_and_the_department_handles_returns_and_answers(journey, screen, tmp_path):
    mark = SCREEN_NAMES[screen]
    handled_text = f"{mark}：5楼群租，房东已多次被投诉"
    returned_text = f"{mark}：12楼隔断出租，疑似群租"
    reason = f"{mark}群租反复，请房管局牵头整治"

    # The street dispatcher: two reports sent to 区房管局, then one summons about both -------------------
    street = journey("jiangning")
    page = street.page
    first = report_and_dispatch(street, handled_text)
    second = report_and_dispatch(street, returned_text)
    street.step("已派遣")
    follow(street, page.get_by_role("link", name="约请部门"))
    expect(page.get_by_label("涉及案件编号")).to_have_value(second)
    expect(page.get_by_label("被约请部门")).to_have_value(
        page.get_by_label("被约请部门").locator("option", has_text="区房管局").first.get_attribute("value")
    )
    page.get_by_label("涉及案件编号").fill(f"{second}、{first}")
    page.get_by_label("约请事由").fill(reason)
    page.get_by_label("约请事项").fill("请于答复时限内说明整治安排，并派员参加联合执法。")
    street.step("约请部门")
    follow(street, page.get_by_role("button", name="保存"))
    expect(page.locator(".page-title")).to_contain_text("约请")
    listed = page.locator("#summons-cases")
    expect(listed.get_by_role("link", name=re.compile(first))).to_be_visible()
    expect(listed.get_by_role("link", name=re.compile(second))).to_be_visible()
    summons_code = re.search(r"YQ\d{4}-\d{7}", page.locator(".page-title").inner_text()).group()
    street.step("约请已发出")
    follow(street, page.get_by_role("link", name="打印约请函"))
    letter = page.locator("#letter")
    expect(letter).to_contain_text("约请函")
    expect(letter).to_contain_text("区房管局")
    expect(letter).to_contain_text(first)
    expect(letter).to_contain_text(second)
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    street.step("约请函")
    # On paper: the letter alone, without the menu bar, the buttons or the footer.
    page.emulate_media(media="print")
    expect(page.locator("header.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(letter).to_be_visible()
    street.step("约请函打印效果")
    page.emulate_media(media="screen")

    # The department handler: finds the cases from the home page --------------------------------------
    person = journey("fangguan")
    page = person.page
    person.step("首页")
    open_todo(person, "派给本单位", "一网统管", "案件")
    person.step("派给本单位")
    search_queue(person, mark, 2)
    expect(page.locator("#list-body").get_by_role("link", name=first)).to_be_visible()
    expect(page.locator("#list-body").get_by_role("link", name=second)).to_be_visible()
    person.step("查找本单位案件")

    # Handles the first: 签收处置, then 处置反馈 with a photo.
    follow(person, page.locator("#list-body").get_by_role("link", name=first))
    expect(page.locator(".page-title")).to_contain_text(first)
    person.step("案件页")
    follow(person, action_card(page, "签收处置").get_by_role("button", name="签收处置"))
    expect(page.get_by_role("alert").filter(has_text="签收处置")).to_be_visible()
    feedback = action_card(page, "处置反馈")
    feedback.get_by_label("处置结果").fill("已约谈房东，清退群租人员7人，恢复原始隔间。")
    feedback.get_by_label("处置后照片").set_input_files(small_png(tmp_path))
    person.step("处置反馈")
    follow(person, feedback.get_by_role("button", name="处置反馈"))
    expect(page.get_by_role("alert").filter(has_text=first)).to_be_visible()
    expect(page.locator(".page-title")).to_contain_text("反馈")
    expect(page.locator("#timeline").get_by_role("link", name=re.compile("处置后.png"))).to_be_visible()
    person.step("已处置")

    # Returns the second: without a reason the message is on the field; with one, back on the queue.
    go_home(person)
    open_todo(person, "派给本单位", "一网统管", "案件")
    search_queue(person, second, 1)
    follow(person, page.locator("#list-body").get_by_role("link", name=second))
    back = action_card(page, "退单")
    follow(person, back.get_by_role("button", name="退单"))
    back = action_card(page, "退单")
    expect(back.get_by_label("退单原因")).to_be_visible()
    expect(back.locator(".invalid-feedback")).to_have_text("请填写退单原因。")
    person.step("退单未填原因")
    back.get_by_label("退单原因").fill("该楼为商办楼，属区市场监管局职责，请改派。")
    follow(person, back.get_by_role("button", name="退单"))
    expect(page.get_by_role("alert").filter(has_text=f"案件 {second} 已退单")).to_be_visible()
    expect(page.locator(".page-title")).to_contain_text("派给本单位")
    person.step("退单后回到本单位队列")

    # Answers the summons: 待答复约请 from the home page (or 约请 in the menu, then its 待答复约请 button).
    go_home(person)
    item = page.locator("#todo .todo-item", has_text="待答复约请")
    if item.count():
        follow(person, item.first)
    else:
        person.menu("一网统管", "约请")
        follow(person, page.get_by_role("link", name=re.compile("待答复约请")))
    person.step("待答复约请")
    follow(person, page.locator("#list-body").get_by_role("link", name=summons_code))
    expect(page.locator("#summons-cases").get_by_role("link", name=re.compile(first))).to_be_visible()
    person.step("约请详情")
    answer = page.locator("#answer")
    answer.get_by_label("答复", exact=True).select_option("1")
    answer.get_by_label("答复内容").fill("已安排执法队下周二联合检查，检查结果书面反馈街道。")
    follow(person, answer.get_by_role("button", name="提交答复"))
    expect(page.locator(".page-title")).to_contain_text("已接受并处理")
    person.step("已答复约请")
