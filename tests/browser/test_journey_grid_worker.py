"""A grid worker verifies on the phone (issue 9): a case the department says it has handled is checked on
the spot by 江宁路街道's grid worker wangge, who finds it among the cases waiting for 核查, looks at what
the department reported, and closes it with a photo of the place — or would send it back.

The demo district holds no handled case of 江宁路街道 waiting for 核查, so the journey makes one through
the pages first: the street dispatcher registers a report and 立案并派遣 it to 区房管局 (the responsibility
list's choice), and 区房管局's handler signs for it and reports it handled. Each run names its case after
the screen it runs on, so that the desktop and phone runs on the one demo site never take each other's
cases."""

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.steps import CODE, SCREEN_NAMES, action_card, choose, open_queue, search_queue

pytestmark = pytest.mark.browser


def site_photo(folder: Path) -> Path:
    path = folder / "核查现场.jpg"
    Image.new("RGB", (80, 60), (90, 120, 160)).save(path, format="JPEG")
    return path


def open_case(person, code: str) -> None:
    """The case, found in the queue by its code as a person looks for one among many: a department's
    派给本单位 holds cases due sooner than this new one, which may stand past the first page."""
    page = person.page
    search_queue(person, code, 1)
    person.press(page.get_by_role("link", name=code, exact=True))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text(code)


def test_the_grid_worker_verifies_a_handled_case_with_a_photo(journey, screen, tmp_path):
    mark = SCREEN_NAMES[screen]
    description = f"{mark}：2号楼底层违规群租，楼道堆放杂物"

    # The street dispatcher registers and dispatches ------------------------------------------------------
    street = journey("jiangning")
    page = street.page
    street.menu("一网统管", "登记案件")
    choose(page.get_by_label("问题类别"), "群租")
    page.get_by_label("问题描述").fill(description)
    with page.expect_response(
        lambda response: "/cases/places/" in response.url and "for=grid" in response.url
    ):
        choose(page.get_by_label("居民区", exact=True), "新安居委会")
    expect(page.get_by_label("网格", exact=True)).not_to_have_value("")
    street.press(page.get_by_role("button", name="提交"))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text(CODE)
    code = CODE.search(page.locator(".page-title").inner_text()).group()
    form = action_card(page, "立案并派遣")
    expect(form.get_by_label("承办单位").locator("option:checked")).to_contain_text("区房管局")
    street.press(form.get_by_role("button", name="立案并派遣"))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text("派遣")
    street.step("已派遣")

    # 区房管局 signs for it and reports it handled --------------------------------------------------------
    department = journey("fangguan")
    page = department.page
    open_queue(department, "派给本单位")
    open_case(department, code)
    department.press(action_card(page, "签收处置").get_by_role("button", name="签收处置"))
    page.wait_for_load_state()
    form = action_card(page, "处置反馈")
    form.get_by_label("处置结果").fill("已会同居委会上门，责令房东限期整改，楼道杂物已清理")
    department.step("处置反馈")
    department.press(form.get_by_role("button", name="处置反馈"))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text("反馈")

    # The grid worker, on the spot --------------------------------------------------------------------------
    worker = journey("wangge")
    page = worker.page
    worker.step("首页")
    open_queue(worker, "待核查")
    worker.step("待核查")
    open_case(worker, code)
    expect(page.get_by_text(description)).to_be_visible()
    expect(page.get_by_text("楼道杂物已清理").first).to_be_visible()  # what the department reported
    form = action_card(page, "核查通过")
    expect(form.get_by_label("核查结果").locator("option:checked")).to_have_text("通过，结案")
    form.get_by_label("说明").fill("现场核实：已无群租，楼道通畅")
    form.get_by_label("核查照片").set_input_files(site_photo(tmp_path))
    worker.step("核查")
    worker.press(form.get_by_role("button", name="核查通过"))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text("结案")
    expect(page.get_by_role("alert").filter(has_text="核查通过")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("现场核实：已无群租")
    expect(
        timeline.get_by_role("img", name=re.compile("核查现场"))
    ).to_be_visible()  # the photo, on the 核查 entry
    worker.step("已结案")

    # Nothing left to verify of this case
    open_queue(worker, "待核查")
    expect(page.get_by_role("link", name=code, exact=True)).to_have_count(0)
    worker.step("待核查已清")
