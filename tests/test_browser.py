"""A street worker's first walk through Shequ in a real chromium, on a desktop screen and on a phone: log in
through the login form, go down the unit tree to an estate, then narrow the estate list and page through
it, where htmx swaps the table in place. Along the way the browser must report nothing broken: no console
error, no script exception, no failed or refused request, no content-security-policy violation.

The pages are served by pytest-django's live_server. It makes the test transactional, so the data the
test creates is committed and the server thread sees it on PostgreSQL as well as on SQLite. All database
work is done before Playwright starts: its sync API runs an asyncio loop in this thread, and Django refuses
ORM calls while a loop is running.

Each walk leaves a screenshot of the estate list in test-artifacts/ (gitignored), to check by eye that
Chinese renders (no boxes)."""

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, Response, expect, sync_playwright

from shequ.registry import services
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.world import World

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "shequ-demo-2025"
PAGE_SIZE = 25  # ScopedListView.paginate_by
EXTRA_ESTATES = 30  # with the world's 新安花园, enough for a second page even after filtering

SCREENS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


@dataclass
class BrowserProblems:
    """What the browser reports going wrong while the walk runs. Chromium reports a CSP violation as a
    console error; it is kept apart so that a failure says what kind of problem it was."""

    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on(
            "requestfailed",
            lambda request: self.failed_requests.append(f"{request.method} {request.url}: {request.failure}"),
        )
        page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.error_responses.append(f"{response.status} {response.request.method} {response.url}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)
        elif message.type == "error" and not message.text.startswith("Failed to load resource"):
            # (A resource that failed to load is already in failed_requests or error_responses.)
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def found(self) -> dict[str, list[str]]:
        # By declared field: Playwright stores its own wrappers on the instance when it binds the handlers.
        reported = {item.name: getattr(self, item.name) for item in fields(self)}
        return {kind: messages for kind, messages in reported.items() if messages}

    def report(self) -> str:
        return "\n".join(f"{kind}:\n  " + "\n  ".join(messages) for kind, messages in self.found().items())


@pytest.fixture
def many_estates(world: World) -> World:
    """Thirty more estates in 新安居委会, named so that one filter keeps all of them and drops 新安花园."""
    for number in range(1, EXTRA_ESTATES + 1):
        services.create_estate(
            actor=None,
            unit=world.jn.area,
            name=f"测试小区{number:02d}",
            housing_type="commercial",
            address=f"测试路{number}号",
        )
    return world


def press(locator: Locator, touch: bool) -> None:
    """A tap on a touch screen, a click elsewhere."""
    if touch:
        locator.tap()
    else:
        locator.click()


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("您好")


def walk_down_the_unit_tree(page: Page, base_url: str, touch: bool) -> None:
    """/units/ → 江宁路街道 → 新安居委会 → 新安花园, following the links in the page content (on a phone
    the navbar is collapsed behind its toggler)."""
    page.goto(f"{base_url}/units/")
    expect(page.get_by_role("heading", name="单位树")).to_be_visible()

    press(page.locator(".page-body").get_by_role("link", name="江宁路街道"), touch)
    expect(page).to_have_url(f"{base_url}/units/310106006/")
    expect(page.locator(".page-title")).to_contain_text("江宁路街道")

    press(page.locator("#children").get_by_role("link", name="新安居委会"), touch)
    expect(page).to_have_url(f"{base_url}/units/310106006002/")
    estates = page.locator("#estates")
    expect(estates.get_by_role("link", name="新安花园")).to_be_visible()

    press(estates.get_by_role("link", name="新安花园"), touch)
    expect(page).to_have_url(re.compile(r"/estates/\d+/$"))
    expect(page.locator(".page-title")).to_have_text("新安花园")
    # The detail rows and the estate's buildings, and the breadcrumb back up the tree.
    expect(page.locator("dl")).to_contain_text("普通商品房")
    expect(page.locator("#buildings")).to_contain_text("1号")
    expect(page.locator(".breadcrumb")).to_contain_text("新安居委会")


def query_of(page: Page) -> dict[str, list[str]]:
    """The address bar's query string, decoded."""
    return parse_qs(urlsplit(page.url).query)


def filter_and_page_the_estate_list(page: Page, base_url: str, touch: bool) -> None:
    """Narrowing the list and going to page 2 replace only the table (htmx) and keep the address bar in
    step, so that the URL can be bookmarked or shared."""
    page.goto(f"{base_url}/estates/")
    body = page.locator("#list-body")
    rows = body.locator("tbody tr")
    expect(body).to_contain_text(f"共 {EXTRA_ESTATES + 1} 条")
    expect(rows).to_have_count(PAGE_SIZE)
    # A marker on the document: a full page load would lose it, an htmx swap keeps it.
    page.evaluate("document.documentElement.dataset.sameDocument = 'yes'")

    # Typing in 名称或地址 and leaving the box fires the form's change trigger; the table is swapped.
    with page.expect_response(lambda r: "/estates/?" in r.url and r.request.headers.get("hx-request")):
        page.get_by_label("名称或地址").fill("测试")
        page.get_by_label("名称或地址").press("Tab")
    expect(body).to_contain_text(f"共 {EXTRA_ESTATES} 条")
    expect(body.get_by_role("link", name="新安花园")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]q="))
    assert query_of(page)["q"] == ["测试"]

    # Page 2 of the filtered list: the link keeps the filter, the URL follows, the rest of the page stays.
    with page.expect_response(lambda r: "page=2" in r.url and r.request.headers.get("hx-request")):
        press(body.locator(".pagination").get_by_role("link", name="2", exact=True), touch)
    expect(rows).to_have_count(EXTRA_ESTATES - PAGE_SIZE)
    expect(body.locator(".pagination .page-item.active")).to_have_text("2")
    expect(body).to_contain_text("测试小区30")
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    assert query_of(page)["q"] == ["测试"]
    expect(page.get_by_label("名称或地址")).to_have_value("测试")
    assert page.evaluate("document.documentElement.dataset.sameDocument") == "yes"


def go_back_to_page_one(page: Page) -> None:
    """Back returns to page 1 of the filtered list: htmx keeps no history cache (historyCacheSize 0), so
    it asks the server for the whole page again."""
    body = page.locator("#list-body")
    rows = body.locator("tbody tr")
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"[?&]page=2(&|$)"))
    expect(rows).to_have_count(PAGE_SIZE)
    expect(body.locator(".pagination .page-item.active")).to_have_text("1")
    expect(body).to_contain_text(f"共 {EXTRA_ESTATES} 条")
    expect(page.get_by_label("名称或地址")).to_have_value("测试")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_street_worker_walks_from_the_unit_tree_to_a_paged_estate_list(live_server, many_estates, screen):
    touch = SCREENS[screen].get("has_touch", False)
    problems = BrowserProblems()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN", **SCREENS[screen])
            context.set_default_timeout(10_000)
            page = context.new_page()
            problems.watch(page)

            log_in(page, live_server.url, "jiangning")
            # Navigation is grouped by area: 小区 is in the 基础要素 menu.
            area_menu = (
                page.locator("#navbar-menu")
                .get_by_role("button", name="基础要素")
                .or_(page.locator("#navbar-menu").get_by_text("基础要素", exact=True))
            )
            menu_link = page.locator("#navbar-menu").get_by_role("link", name="小区", exact=True)
            if screen == "phone":
                # The navbar has collapsed behind its toggler; the walk below uses links in the pages.
                expect(page.locator(".navbar-toggler")).to_be_visible()
                expect(area_menu).to_be_hidden()
            else:
                expect(area_menu).to_be_visible()
                expect(menu_link).to_be_hidden()
                area_menu.click()
                expect(menu_link).to_be_visible()
                page.keyboard.press("Escape")

            walk_down_the_unit_tree(page, live_server.url, touch)
            filter_and_page_the_estate_list(page, live_server.url, touch)
            # Page 2 is short enough to show navbar, filters, table and pagination in one picture.
            page.screenshot(path=ARTIFACTS / f"estate-list-{screen}.png", full_page=True)
            go_back_to_page_one(page)
        finally:
            browser.close()

    assert not problems.found(), f"the browser reported problems on the {screen}:\n{problems.report()}"
