"""A residents' committee clerk's day (issue 9), acted out in chromium at desktop and phone width: 新安居委会's
clerk adds a resident (a wrong check digit first), finds her by name and by the last digits of her ID
number, imports an Excel file with a bad row (nothing is written; the row and the column are named), fixes
it, imports it, and exports the filtered list.

Everything goes through the interface: menus, links, forms, the downloaded import template. Names carry a
random suffix, since the demo district is shared by the session's journeys."""

from __future__ import annotations

import datetime
import random
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from playwright.sync_api import expect
from stdnum.cn import ric

pytestmark = pytest.mark.browser

REGION = "310106"  # 静安区 (GB/T 2260)


def id_number(birth: datetime.date, sequence: int) -> str:
    """A valid resident ID number (GB 11643): region, birth date, sequence and the check digit."""
    stem = f"{REGION}{birth:%Y%m%d}{sequence:03d}"
    return stem + ric.calc_check_digit(stem + "0")  # stdnum reads the first 17 of 18 characters


def with_wrong_check_digit(number: str) -> str:
    digits = "0123456789X"
    return number[:-1] + digits[(digits.index(number[-1]) + 1) % len(digits)]


def random_person() -> tuple[str, str]:
    """A name no other run has used, and an ID number no other run is likely to have registered."""
    suffix = "".join(random.choices("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥", k=5))
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=random.randrange(365 * 60))
    return suffix, id_number(birth, random.randrange(1, 999))


def open_filters(person) -> None:
    """On a phone the filters after the search box are folded behind the 筛选 button."""
    if person.phone:
        toggle = person.page.locator('[data-bs-target="#more-filters"]')
        if toggle.get_attribute("aria-expanded") != "true":
            person.press(toggle)
        expect(person.page.locator("#more-filters")).to_be_visible()


def pick(person, label: str) -> None:
    """Chooses the first place in a picker and waits for the pickers after it to be re-drawn."""
    with person.page.expect_response(lambda response: "/residents/add/?" in response.url):
        person.page.get_by_label(label, exact=True).select_option(index=1)
    # The pickers after it are dimmed until the answer's pickers replace them.
    expect(person.page.locator("[data-picker].opacity-50")).to_have_count(0)


def search(person, label: str, text: str) -> None:
    """Types into a filter and waits for the table htmx swaps in (the form sends itself on Enter) and
    for the address to follow."""
    page = person.page
    box = page.locator("#filters").get_by_label(label, exact=True)
    if not box.is_visible():
        open_filters(person)
    name = box.get_attribute("name")
    box.fill(text)
    box.press("Enter")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get(name, [""]) == [text])
    expect(page.locator(".htmx-request")).to_have_count(0)


def test_a_clerk_adds_finds_imports_and_exports_residents(journey, tmp_path):
    person = journey("xinan")
    page = person.page
    # Chromium reports a link that answers with a file as an aborted navigation (the download goes on).
    person.expect_error(r"GET \S+/excel/residents/(template|export)/\S*: net::ERR_ABORTED$")
    suffix, number = random_person()
    name = f"林{suffix}"

    # 居民 → 新建: the clerk's one residential area is already chosen.
    person.menu("居民", "居民")
    person.step("居民名单")
    person.press(page.get_by_role("link", name="新建", exact=True))
    page.wait_for_url(re.compile(r"/residents/add/$"))
    expect(page.get_by_label("居民区")).to_have_value(re.compile(r"\d+"))
    person.step("新建居民")

    # A wrong check digit: the message is on the ID field, in Chinese.
    page.get_by_label("姓名", exact=True).fill(name)
    page.get_by_label("证件号码").fill(with_wrong_check_digit(number))
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    expect(page.locator("#field-id_number .invalid-feedback")).to_have_text(
        "身份证号码校验码错误（GB 11643）。"
    )
    person.step("校验码错误")

    # The right number, a place picked estate → building → building group, a tag: the resident's page.
    page.get_by_label("证件号码").fill(number)
    pick(person, "小区")
    if not page.get_by_label("楼栋", exact=True).input_value():  # an estate's only building comes chosen
        pick(person, "楼栋")
    group = page.get_by_label("楼组", exact=True)
    expect(group.locator("option")).not_to_have_count(1)  # more than the empty choice
    group.select_option(index=1)
    page.get_by_label("室号").fill("1201")
    page.get_by_label("志愿者").check()
    person.step("填写居民信息")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    expect(page.locator("h2, .page-title").first).to_contain_text(name)
    expect(page.get_by_text("志愿者")).to_be_visible()
    expect(page.get_by_text(number[:6] + "********" + number[-4:])).to_be_visible()
    person.step("居民页面")

    # Found by name, and by the last four characters of the ID number; a row opens the resident's page
    # as a page of its own (not inside the list).
    person.menu("居民", "居民")
    search(person, "姓名", name)
    rows = page.locator("#list-body tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(name)
    person.step("按姓名查找")
    search(person, "姓名", "")
    search(person, "证件号码（完整或末4位）", number[-4:])
    expect(page.locator("#list-body tbody").get_by_role("link", name=name)).to_be_visible()
    person.step("按证件号码末4位查找")
    person.press(page.locator("#list-body tbody").get_by_role("link", name=name))
    page.wait_for_url(re.compile(r"/residents/\d+/$"))
    # One page, not the detail nested in the list (issue 9, item 2).
    expect(page.locator("header.navbar")).to_have_count(1)
    expect(page.locator("#list-body")).to_have_count(0)
    person.step("从名单打开居民")

    # Import: the template from the page, two residents, one with a wrong check digit.
    person.menu("居民", "居民")
    person.press(page.get_by_role("link", name="导入", exact=True))
    page.wait_for_url(re.compile(r"/excel/residents/import/$"))
    person.step("导入页面")
    with page.expect_download() as download:
        person.press(page.get_by_role("link", name="下载导入模板"))
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    first, second = random_person(), random_person()
    people = [(f"何{first[0]}", first[1]), (f"郑{second[0]}", with_wrong_check_digit(second[1]))]
    upload = fill_template(template, tmp_path / "bad.xlsx", people)
    upload_file(person, upload)
    expect(page.get_by_text("有错误").first).to_be_visible()
    problems = page.locator("table").filter(has_text="行号").locator("tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first.locator("td").nth(0)).to_have_text("4")  # the header, the example, then two rows
    expect(problems.first.locator("td").nth(1)).to_have_text("证件号码")
    expect(problems.first.locator("td").nth(2)).to_contain_text("校验码")
    person.step("导入有错误")

    # Nothing was written: the good row is not in the register either.
    person.menu("居民", "居民")
    search(person, "姓名", people[0][0])
    expect(page.locator("#list-body")).to_contain_text("共 0 条")

    # Fixed, uploaded again, confirmed.
    people[1] = (people[1][0], second[1])
    upload = fill_template(template, tmp_path / "fixed.xlsx", people)
    person.press(page.get_by_role("link", name="导入", exact=True))
    page.wait_for_url(re.compile(r"/excel/residents/import/$"))
    upload_file(person, upload)
    expect(page.get_by_text("检查通过").first).to_be_visible()
    person.step("检查通过")
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    expect(page.get_by_text("已完成").first).to_be_visible(timeout=30_000)
    person.step("导入完成")

    # The filtered list, exported: the file holds exactly the rows listed.
    person.menu("居民", "居民")
    for imported, _number in people:
        search(person, "姓名", imported)
        expect(page.locator("#list-body tbody tr")).to_have_count(1)
    search(person, "姓名", people[0][0])
    person.step("导入的居民")
    with page.expect_download() as download:
        person.press(page.locator("#excel-export"))
    exported = tmp_path / "export.xlsx"
    download.value.save_as(exported)
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(exported, read_only=True).worksheets[0]
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True) if any(row)]
    assert names == [people[0][0]]


def fill_template(template, target, people: list[tuple[str, str]]):
    """The downloaded template with one row per person under its example row; the columns are found by
    their headers, as a clerk reads them."""
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    headers = {cell.value: cell.column for cell in sheet[1] if cell.value}
    for offset, (person_name, person_id) in enumerate(people):
        row = 3 + offset
        values = {
            "居民区": "新安居委会",
            "姓名": person_name,
            "证件类型": "居民身份证",
            "证件号码": person_id,
        }
        values.update({"人口类型": "户籍人口", "状态": "在住", "室号": f"{101 + offset}"})
        for header, value in values.items():
            sheet.cell(row=row, column=headers[header], value=value)
    book.save(target)
    return target


def upload_file(person, path) -> None:
    page = person.page
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(path)
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_url(re.compile(r"/excel/jobs/\d+/$"))
    page.wait_for_load_state()
