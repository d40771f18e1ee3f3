"""Steps several journeys take the same way: picking from a drop-down, a case page's action forms, a work
queue reached from the home page."""

import re

from playwright.sync_api import expect

CODE = re.compile(r"JA\d{4}-\d{7}")  # a case code as the pages show it
SCREEN_NAMES = {"desktop": "电脑端", "phone": "手机端"}  # marks what each screen's journey creates


def choose(select, text: str) -> None:
    """Picks the option whose label contains `text`, as a person picks from a drop-down."""
    select.select_option(select.locator("option", has_text=text).first.get_attribute("value"))


def action_card(page, title: str):
    """One of a case page's action forms, by its heading (立案并派遣, 退单...)."""
    return page.locator("form", has=page.get_by_role("heading", name=title, exact=True))


def follow(person, locator) -> None:
    """A tap or click that loads another page (a form's submit, a link), waiting for that page."""
    with person.page.expect_navigation():
        person.press(locator)
    person.page.wait_for_load_state()


def open_queue(person, title: str) -> None:
    """A work queue: from the home page's to-do list when it lists it, else 案件 in the menu and the
    queue's tab above the list."""
    page = person.page
    item = page.locator("#todo .todo-item", has_text=title)
    if item.count():
        person.press(item.first)
    else:
        person.menu("一网统管", "案件")
        person.press(page.locator("#case-queues").get_by_role("link", name=title, exact=True))
    page.wait_for_load_state()
    expect(page.locator(".page-title")).to_contain_text(title)


def search_queue(person, text: str, expected: int) -> None:
    """Types into the list's search box (on a phone, behind the 筛选 button) and waits for the list it
    brings: the filters re-render the list in place, and leaving before that would cut it off."""
    page = person.page
    if person.phone:
        person.press(page.get_by_role("button", name=re.compile("^筛选")))
    page.get_by_label("编号或描述").fill(text)
    page.get_by_label("编号或描述").press("Enter")
    expect(page.locator("#list-body")).to_contain_text(f"共 {expected} 条")
    expect(page.locator(".htmx-request")).to_have_count(0)
