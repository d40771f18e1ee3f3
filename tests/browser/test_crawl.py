"""Every page each demo role can reach from its navigation and its home page, and one step further (the
first record of each list, the list's 新建 form), at desktop and phone width: each answers under 400 with
no console error, no failed request, no English word outside the allow-list and nothing wider than the
viewport. A new page is crawled as soon as a menu or a home page links to it."""

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROLES = [None, "admin", "district", "jiangning", "jiangning_admin", "xinan", "wangge", "fangguan", "auditor"]
# Downloads (a page.goto cannot open them), the API's own pages (developers' English) and actions.
SKIPPED = re.compile(r"^/(api/|open311/|static/|accounts/logout)|/(export|template|errors|print)/?$|\.xlsx$")
PAGES_PER_ROLE = 80


def shape(path: str) -> str:
    """Pages of one kind count once: /cases/123/ and /cases/456/ are both /cases/N/, and so are
    /units/310106006/ and /units/310106011/."""
    return re.sub(r"/[^/]*\d[^/]*(?=/)", "/N", re.sub(r"/r/[^/]+/", "/r/T/", path))


def links(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_works(journey, username):
    person = journey(username)
    page = person.page
    base = person.site.url
    seen: set[str] = set()
    todo: list[str] = ["/"]
    visited = 0
    while todo and visited < PAGES_PER_ROLE:
        path = todo.pop(0)
        split = urlsplit(path)
        if split.netloc and f"{split.scheme}://{split.netloc}" != base:
            continue
        path = split.path + (f"?{split.query}" if split.query else "")
        names = sorted(part.split("=")[0] for part in split.query.split("&") if part)
        key = shape(split.path) + ("?" + "&".join(names) if names else "")
        if key in seen or SKIPPED.search(split.path):
            continue
        seen.add(key)
        page.goto(f"{base}{path}")
        visited += 1
        person.step(path, screenshot=False)
        found = links(page, "a[href]")
        for href in found:
            if href and href.startswith("/") and not href.startswith("//"):
                todo.append(href)
    assert visited > 1 if username is None else visited > 3, f"{username} reached only {visited} pages"
