"""Journeys in a real chromium: each role's daily work acted out through the interface only, on the demo
district, at desktop and phone width.

The platform runs as it runs for its users: `shequ demo --no-serve` loads the demo district into a
database of its own (a fresh SQLite file, or the database `shequ_journeys` beside the test database on
PostgreSQL), then `shequ serve` starts gunicorn on a free port. Both happen once per test session
(`demo_site`); the journeys share that district, so each one creates what it needs under names of its
own and never counts on another journey having run.

A journey starts at a role's home page (`journey(username)`, logged in through the login form once per
account and session) and goes on by clicking. After every step it calls `step("…")`, which checks the
page the person sees — the page answered under 400, no English word outside ALLOWED_ENGLISH, nothing
wider than the viewport — and keeps a screenshot under var/journeys/ (a CI artefact, not committed).
Console errors, script exceptions, failed requests and answers of 400 and above are collected for the
whole journey and fail it at the end, unless the journey declared them (`expect_error`).

Playwright's sync API runs an asyncio loop in this thread and Django refuses ORM calls while one runs, so
the browser lives for one module at a time (module-scoped fixtures), and these tests touch no database
themselves: what they check, they check on the page."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Response, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "var" / "journeys"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # the same variable the Makefile uses
# Without the background-networking switches chromium phones home, and this machine's closed network
# refuses the connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # chromium's own labels (the file picker's button) as a Chinese user's browser shows them
]
PASSWORD = "shequ-demo-2025"  # shequ.demo.loader.DEMO_PASSWORD (not imported: no Django here)

SCREENS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

# Latin words a Chinese user may meet in the interface: file formats, standards, units of measure,
# product names. Anything else is an untranslated label. Compared case-insensitively.
ALLOWED_ENGLISH = {
    "excel",
    "xlsx",
    "csv",
    "api",
    "open311",
    "georeport",
    "id",
    "gb",
    "pdf",
    "json",
    "xml",
    "km",
    "kg",
    "mb",
    "kb",
    "cm",
    "https",
    "http",
    "url",
    "ai",
}
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_@./-])[A-Za-z]{2,}(?![A-Za-z0-9_@.-])")

pytestmark = pytest.mark.browser


# The demo site ------------------------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    env: dict
    data_dir: Path

    def shequ(self, *args: str, timeout: float = 600) -> str:
        """Runs a `shequ` command against the demo site's database (for setting up what no page can, such
        as the passage of time); journeys themselves only click."""
        result = subprocess.run(
            [sys.executable, "-m", "shequ", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        if result.returncode:
            raise RuntimeError(f"shequ {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _journeys_database(test_url: str) -> str:
    """A database of its own beside the test database, created empty."""
    import psycopg

    parts = urlsplit(test_url)
    name = "shequ_journeys"
    with psycopg.connect(test_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def demo_site():
    data_dir = Path(tempfile.mkdtemp(prefix="shequ-journeys-"))
    env = {**os.environ, "SHEQU_DATA_DIR": str(data_dir), "SHEQU_HUEY_IMMEDIATE": "true"}
    env.setdefault("SHEQU_SECRET_KEY", "test-only-secret")
    # Every journey reports from 127.0.0.1: the per-address captcha and limit are tested on their own
    # (cases/tests/test_public.py), not met by accident when the journeys run in a different order.
    env.update(SHEQU_PUBLIC_REPORT_CAPTCHA_AFTER="1000", SHEQU_PUBLIC_REPORT_LIMIT="1000")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if os.environ.get("SHEQU_DATABASE_URL"):
        env["SHEQU_DATABASE_URL"] = _journeys_database(os.environ["SHEQU_DATABASE_URL"])
    port = _free_port()
    site = Site(url=f"http://127.0.0.1:{port}", env=env, data_dir=data_dir)
    template = os.environ.get("SHEQU_JOURNEYS_TEMPLATE")
    if template and "SHEQU_DATABASE_URL" not in env:
        # While developing: a copy of a data folder `shequ demo --no-serve` filled once (with its own
        # personal-data key), brought up to date by the migrations, instead of a 40-second load.
        shutil.copytree(template, data_dir, dirs_exist_ok=True)
        env["SHEQU_PERSONAL_DATA_KEY_FILE"] = str(data_dir / "personal_data.key")
        site.shequ("migrate")
    else:
        site.shequ("demo", "--no-serve", timeout=900)
    log = open(data_dir / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "shequ", "serve", "--no-jobs", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{site.url}/accounts/login/", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log_text = (data_dir / "server.log").read_text()
                    raise RuntimeError(f"the demo server did not start:\n{log_text}") from None
                time.sleep(0.3)
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


# The browser --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(SCREENS))
def screen(request) -> str:
    return request.param


_logged_in: dict[tuple[str, str], dict] = {}  # (site url, username) → storage state (the session cookie)


@dataclass
class Problems:
    """What the browser reports going wrong during a journey."""

    console_errors: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)
    page_problems: list[str] = field(default_factory=list)

    def found(self) -> dict[str, list[str]]:
        return {name: items for name, items in vars(self).items() if isinstance(items, list) and items}

    def report(self) -> str:
        return "\n".join(f"{kind}:\n  " + "\n  ".join(items) for kind, items in self.found().items())


class Journey:
    """One person's way through the interface in one browser context."""

    def __init__(self, site: Site, page: Page, screen: str, name: str):
        self.site = site
        self.page = page
        self.screen = screen
        self.phone = screen == "phone"
        self.name = name
        self.problems = Problems()
        self.expected_errors: list[re.Pattern] = []
        self.steps = 0
        self.folder = ARTEFACTS / ("postgresql" if "SHEQU_DATABASE_URL" in site.env else "sqlite") / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.script_errors.append(f"{error} on {page.url}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)
        # Chromium ends a request that turns into a download as "failed" (net::ERR_ABORTED): not a problem.
        self.downloads: set[str] = set()
        page.on("download", lambda download: self.downloads.add(download.url))

    # What goes wrong -----------------------------------------------------------------------------------

    def expect_error(self, pattern: str) -> None:
        """An answer of 400 or above the journey provokes on purpose (e.g. a rate limit), as a regex over
        "<status> <method> <url>"."""
        self.expected_errors.append(re.compile(pattern))

    def _unless_expected(self, bucket: list[str], text: str) -> None:
        if not any(pattern.search(text) for pattern in self.expected_errors):
            bucket.append(text)

    def _on_request_failed(self, request) -> None:
        # An htmx request the page gave up on (the person clicked a link while a filter was on its way, or
        # htmx replaced it with a newer one) ends as ERR_ABORTED by design; any other failure is a problem.
        if request.failure == "net::ERR_ABORTED" and request.resource_type in ("xhr", "fetch"):
            return
        self._unless_expected(
            self.problems.failed_requests, f"{request.method} {request.url}: {request.failure}"
        )

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self._unless_expected(
                self.problems.error_responses, f"{response.status} {response.request.method} {response.url}"
            )

    def _on_console(self, message: ConsoleMessage) -> None:
        # A resource that failed to load is already in failed_requests or error_responses.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.console_errors.append(f"{message.text} ({message.location.get('url')})")

    # Moving about --------------------------------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        """Where a journey starts (the home page, or a link the person was given); the rest is clicks."""
        self.page.goto(f"{self.site.url}{path}")

    def press(self, locator: Locator) -> None:
        """A tap on a phone, a click elsewhere."""
        if self.phone:
            locator.tap()
        else:
            locator.click()

    def menu(self, area: str, entry: str) -> None:
        """Opens a navigation entry as a person does: on a phone through the menu button first."""
        navbar = self.page.locator("#navbar-menu")
        if self.phone:
            self.page.locator(".navbar-toggler").click()
            expect(navbar).to_be_visible()
        navbar.get_by_role("button", name=area).or_(navbar.get_by_text(area, exact=True)).first.click()
        link = navbar.get_by_role("link", name=entry, exact=True)
        expect(link).to_be_visible()
        link.click()
        self.page.wait_for_load_state()

    # Checking what the person sees -------------------------------------------------------------------

    def step(self, label: str, *, screenshot: bool = True) -> None:
        """Checks the page as it is now and keeps a screenshot of it."""
        self.page.wait_for_load_state()
        self.steps += 1
        for problem in page_problems(self.page):
            self.problems.page_problems.append(f"{label}: {problem}")
        if screenshot:
            safe = re.sub(r"[^\w-]+", "-", label).strip("-")
            self.page.screenshot(path=self.folder / f"{self.steps:02d}-{safe}.png", full_page=True)

    def assert_nothing_went_wrong(self) -> None:
        self.problems.failed_requests = [
            text
            for text in self.problems.failed_requests
            if not (text.endswith("net::ERR_ABORTED") and text.split(" ")[1].rstrip(":") in self.downloads)
        ]
        assert not self.problems.found(), (
            f"{self.name}: the browser reported problems:\n{self.problems.report()}"
        )


def page_problems(page: Page) -> list[str]:
    """What is wrong with the page in view: an English word outside the allow-list, something wider than
    the viewport. (Status, console and network are watched for the whole journey.)"""
    problems = []
    facts = page.evaluate(
        """() => ({
            text: document.body ? document.body.innerText : '',
            title: document.title,
            width: window.innerWidth,
            scrollWidth: document.documentElement.scrollWidth,
            wide: Array.from(document.querySelectorAll('body *'))
                .filter(e => { const r = e.getBoundingClientRect();
                               return r.width > 0 && r.right > window.innerWidth + 1
                                      && getComputedStyle(e).position !== 'fixed'
                                      && !e.closest('.table-responsive, .dropdown-menu, .collapse:not(.show)'); })
                .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')),
        })"""
    )
    words = sorted(
        {
            word
            for word in ENGLISH_WORD.findall(facts["text"] + "\n" + facts["title"])
            if word.lower() not in ALLOWED_ENGLISH
        }
    )
    if words:
        problems.append(f"English on {page.url}: {', '.join(words[:12])}")
    if facts["scrollWidth"] > facts["width"] + 1:
        problems.append(
            f"wider than the {facts['width']} px viewport on {page.url}: {facts['scrollWidth']} px "
            f"({', '.join(facts['wide'])})"
        )
    return problems


def log_in(page: Page, site: Site, username: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"{username} could not log in")


@pytest.fixture
def journey(request, demo_site: Site, browser: Browser, screen: str):
    """journey(username) → a Journey on that account's home page (None: a resident without an account, on
    the public home page). Problems fail the test at the end."""
    contexts = []
    journeys: list[Journey] = []

    def start(username: str | None) -> Journey:
        key = (demo_site.url, username or "")
        options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", **SCREENS[screen]}
        if username and key not in _logged_in:
            context = browser.new_context(**options)
            page = context.new_page()
            log_in(page, demo_site, username)
            _logged_in[key] = context.storage_state()
            context.close()
        context = browser.new_context(storage_state=_logged_in.get(key), accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        name = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
        current = Journey(demo_site, page, screen, f"{name}-{username or 'public'}")
        journeys.append(current)
        current.open("/")
        return current

    yield start
    for context in contexts:
        context.close()
    for current in journeys:
        current.assert_nothing_went_wrong()
