"""一网统管 benchmark (`python -m bench cases`): a Jing'an-sized year of cases on PostgreSQL.

1. Case intake through the API (POST /api/v1/cases/) with gunicorn and 2 workers: requests/s and p99,
   beside the floor: a minimal Django endpoint doing one INSERT, same server, same middleware.
2. The work queues (/cases/queue/to-dispatch/ as a street, /cases/queue/assigned/ as a department), the
   dashboard and the assessment: p50/p95 over N requests, beside the floor: the same queries written
   by hand and run through connection.cursor(). Threshold (issue 9): a queue page's p50 within 5x of
   its floor's.
3. Each demo role's home page ("/", its to-do list): p50/p95 over N requests, the six accounts in turn.
   Threshold (issue 9): p95 under 150 ms.
4. The deadline sweep (services.sweep_deadlines) over 300,000 cases, in a transaction rolled back.

The database is a dedicated one, `shequ_bench` (SHEQU_BENCH_DATABASE_URL, else the server of
SHEQU_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/shequ_bench). It is created and loaded on the
first run (units, accounts, district-scale places, the responsibility list, then load_demo_cases, whose
year ends at the moment of the load) and reused afterwards. The figures go to docs/performance.md,
section 一网统管."""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var" / "bench"
DOC = ROOT / "docs" / "performance.md"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"
DATABASE = "shequ_bench"
MARK_START = "<!-- bench:cases:start -->"
MARK_END = "<!-- bench:cases:end -->"
INTAKE_MARK = "基准测试受理"
ROUNDS = 4  # the intake run alternates floor and intake windows this many times
QUEUE_RATIO = 5.0  # a queue page's p50 at most this many times its hand-written SQL's (issue 9)
HOME_P95_MS = 150.0  # every role's home page under this at p95 (issue 9)
# The demo roles whose home page is measured: the to-do lists of issue 9.
HOME_ROLES = [
    ("jiangning", "江宁路街道 科员（派遣）"),
    ("fangguan", "区房管局 科员"),
    ("xinan", "新安居委会 社工"),
    ("wangge", "江宁路街道 网格员"),
    ("district", "区地区办"),
    ("auditor", "审计员"),
]


# Set-up ------------------------------------------------------------------------------------------------


def database_url() -> str:
    if url := os.environ.get("SHEQU_BENCH_DATABASE_URL"):
        return url
    if url := os.environ.get("SHEQU_DATABASE_URL"):
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=f"/{DATABASE}"))
    return DEFAULT_SERVER + DATABASE


def create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def configure(url: str) -> None:
    """The environment the platform reads (and gunicorn inherits), then Django."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "personal_data.key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        key_file.write_text(
            json.dumps(
                {"encryption_keys": [Fernet.generate_key().decode()], "index_key": secrets.token_hex(32)}
            )
        )
        key_file.chmod(0o600)
    os.environ.update(
        SHEQU_DATABASE_URL=url,
        SHEQU_DATA_DIR=str(DATA_DIR),
        SHEQU_PERSONAL_DATA_KEY_FILE=str(key_file),
        DJANGO_SETTINGS_MODULE="bench.settings",
    )
    os.environ.setdefault("SHEQU_SECRET_KEY", "bench-only-secret-not-for-production")
    create_database(url)
    import django

    django.setup()


def prepare(count: int) -> dict:
    """Migrate and load once: the district's units and places (no residents: the cases do not need
    them), the responsibility list and `count` cases. Returns what was loaded and how long it took."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from shequ.cases.models import Case
    from shequ.cases.seed import load_categories, load_rules
    from shequ.core.progress import Progress
    from shequ.demo.cases import demo_now, load_demo_cases
    from shequ.demo.loader import (
        SCALES,
        LoadReport,
        load_accounts,
        load_grids_and_blocks,
        load_places,
        load_units,
    )

    info_file = DATA_DIR / f"load-{urlsplit(database_url()).path.lstrip('/')}.json"  # one per database
    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # gunicorn serves the manifest's names
    with transaction.atomic():
        report = LoadReport()
        units = load_units(report)
        load_accounts(units, report)
        started = time.perf_counter()
        load_places(units, SCALES["district"], report)
        load_grids_and_blocks(units, report)
        load_rules(load_categories())
        if report.estates:
            info["places_seconds"] = round(time.perf_counter() - started, 1)
    if not Case.objects.exists():
        print(f"载入 {count:,} 件案件（load_demo_cases）……", flush=True)
        started = time.perf_counter()
        now = demo_now()
        loaded = load_demo_cases(count, now=now, progress=Progress())
        info.update(
            cases=loaded.cases,
            events=loaded.events,
            supervisions=loaded.supervisions,
            summonses=loaded.summonses,
            notifications=loaded.notifications,
            load_seconds=round(time.perf_counter() - started, 1),
            now=now.isoformat(),
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, body text, "
            "created_at timestamptz NOT NULL)"
        )
        cursor.execute("TRUNCATE bench_floor")
    info["cases_now"] = Case.objects.count()
    info_file.write_text(json.dumps(info))
    return info


# Measuring ---------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    seconds: float = 0.0

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50) * 1000

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95) * 1000

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99) * 1000

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, data
    finally:
        connection.close()


def hammer(
    port: int, method: str, path: str, bodies, headers: dict, concurrency: int, seconds: float, expect: int
) -> Timing:
    """`concurrency` clients sending requests back to back for `seconds`."""
    timing = Timing()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(number: int):
        rng = random.Random(number)
        local, errors = [], 0
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status, _data = request(port, method, path, bodies(rng), headers)
            elapsed = time.perf_counter() - started
            if status == expect:
                local.append(elapsed)
            else:
                errors += 1
        with lock:
            timing.samples.extend(local)
            timing.errors += errors

    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timing.seconds = time.perf_counter() - began
    return timing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the platform's WSGI application and the bench URL conf (2 sync workers)."""

    def __init__(self, workers: int = 2):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "shequ.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(ROOT),
                "--pythonpath",
                str(ROOT),
                "--log-level",
                "warning",
            ],
            env=os.environ.copy(),
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                status, _body = request(self.port, "GET", "/accounts/login/")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn 未能启动")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def session_cookie(username: str) -> dict:
    from django.test import Client

    from shequ.org.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


# 1. Intake ---------------------------------------------------------------------------------------------


def bench_intake(server: Server, concurrency: int, seconds: float) -> dict:
    from knox.models import AuthToken

    from shequ.cases.models import Case
    from shequ.core.models import AuditEntry
    from shequ.org.models import User
    from shequ.registry.models import BuildingGroup

    user = User.objects.get(username="jiangning")
    _token, key = AuthToken.objects.create(user)
    groups = list(
        BuildingGroup.objects.filter(unit__path__startswith="/310106/310106006/").values_list(
            "pk", "unit__code"
        )[:500]
    )
    categories = ["E0101", "E0201", "E0501", "S0101", "S0202", "S0301", "S0302"]

    def intake_body(rng):
        group, area = rng.choice(groups)
        return json.dumps(
            {
                "source": "hotline",
                "category": rng.choice(categories),
                "unit": area,
                "building_group": group,
                "description": f"{INTAKE_MARK}：楼道堆物，请处理。",
            }
        ).encode()

    def floor_body(rng):
        return json.dumps(
            {"description": f"{INTAKE_MARK}：楼道堆物，请处理。", "group": rng.randint(1, 9999)}
        ).encode()

    json_headers = {"Content-Type": "application/json"}
    api_headers = {**json_headers, "Authorization": f"Token {key}"}
    # Warm both workers (imports, connections, the working-day calendar) before measuring.
    hammer(server.port, "POST", "/bench/floor/insert/", floor_body, json_headers, concurrency, 2, 201)
    hammer(server.port, "POST", "/api/v1/cases/", intake_body, api_headers, concurrency, 2, 201)
    # Alternating windows, so that whatever else the machine is doing weighs on both alike.
    floor, intake = Timing(), Timing()
    for _round in range(ROUNDS):
        for total, path, bodies, headers in (
            (floor, "/bench/floor/insert/", floor_body, json_headers),
            (intake, "/api/v1/cases/", intake_body, api_headers),
        ):
            window = hammer(server.port, "POST", path, bodies, headers, concurrency, seconds / ROUNDS, 201)
            total.samples += window.samples
            total.errors += window.errors
            total.seconds += window.seconds
    # Leave the data as loaded: the benchmark's own cases go (with their timeline, audit and notifications).
    created = list(Case.objects.filter(description__startswith=INTAKE_MARK).values_list("pk", flat=True))
    AuditEntry.objects.filter(content_type__model="case", object_id__in=[str(pk) for pk in created]).delete()
    Case.objects.filter(pk__in=created).delete()
    AuthToken.objects.filter(user=user).delete()
    return {"intake": intake, "floor": floor, "created": len(created)}


# 2. Pages ----------------------------------------------------------------------------------------------

# The floors: what a page's own queries would be if written by hand (the same joins, filters and
# grouping the ORM produces for that user), without sessions, templates or Python around them.
QUEUE_COLUMNS = """c.id, c.code, c.reported_at, c.source, c.stage, c.stage_deadline, c.overdue, c.warned,
    cat.name, parent.name, place.name, assignee.name"""
QUEUE_JOINS = """FROM cases_case c
    JOIN cases_category cat ON cat.id = c.category_id
    LEFT JOIN cases_category parent ON parent.id = cat.parent_id
    JOIN org_unit place ON place.id = c.unit_id
    LEFT JOIN org_unit assignee ON assignee.id = c.assignee_id"""


def floor_to_dispatch(street_path: str):
    where = "WHERE c.stage = 'registered' AND place.path LIKE %s"
    return [
        (f"SELECT count(*) {QUEUE_JOINS} {where}", [street_path + "%"]),
        (
            f"SELECT {QUEUE_COLUMNS} {QUEUE_JOINS} {where} ORDER BY c.stage_deadline, c.id LIMIT 25",
            [street_path + "%"],
        ),
    ]


def floor_assigned(department_id: int, department_path: str):
    where = "WHERE c.stage IN ('dispatched', 'handling') AND assignee.path LIKE %s AND c.assignee_id = %s"
    params = [department_path + "%", department_id]
    return [
        (f"SELECT count(*) {QUEUE_JOINS} {where}", params),
        (f"SELECT {QUEUE_COLUMNS} {QUEUE_JOINS} {where} ORDER BY c.stage_deadline, c.id LIMIT 25", params),
    ]


def floor_dashboard(path: str, period, prefix_length: int, assigned_path: str | None):
    """The dashboard's queries by hand: the same scope (the place under the unit; for a street user, the
    restriction also lets in what was sent to the street), the same GROUP BYs, without the ORM."""
    scope = "place.path LIKE %(p)s"
    if assigned_path:
        scope = f"({scope} OR assignee.path LIKE %(a)s)"
    joins = (
        "FROM cases_case c JOIN org_unit place ON place.id = c.unit_id "
        "LEFT JOIN org_unit assignee ON assignee.id = c.assignee_id "
    )
    base = f"{joins} WHERE {scope} AND place.path LIKE %(p)s"
    within = f"{base} AND c.reported_at >= %(s)s AND c.reported_at < %(e)s"
    params = {
        "p": path + "%",
        "a": (assigned_path or "") + "%",
        "s": period.start,
        "e": period.end,
        "n": prefix_length,
    }
    bounds = [
        datetime.datetime.combine(m, datetime.time(), tzinfo=period.start.tzinfo) for m in period.months()
    ]
    bounds.append(period.end)
    for index, bound in enumerate(bounds):
        params[f"b{index}"] = bound
    months = ", ".join(
        f"count(*) FILTER (WHERE c.reported_at >= %(b{i})s AND c.reported_at < %(b{i + 1})s)"
        for i in range(len(bounds) - 1)
    )
    counts = (
        "count(*), count(*) FILTER (WHERE c.stage = 'closed'), "
        "count(*) FILTER (WHERE c.stage = 'closed' AND NOT c.handled_late), "
        "count(*) FILTER (WHERE c.rating <> ''), "
        "count(*) FILTER (WHERE c.rating IN ('satisfied', 'basically')), sum(c.return_count)"
    )
    categories = (
        "FROM cases_case c JOIN org_unit place ON place.id = c.unit_id "
        "LEFT JOIN org_unit assignee ON assignee.id = c.assignee_id "
        "JOIN cases_category cat ON cat.id = c.category_id JOIN cases_category big ON big.id = cat.parent_id "
        f"WHERE {scope} AND place.path LIKE %(p)s AND c.reported_at >= %(s)s AND c.reported_at < %(e)s"
    )
    return [
        (f"SELECT c.reported_at {base} ORDER BY c.reported_at LIMIT 1", params),
        (f"SELECT c.reported_at {base} ORDER BY c.reported_at DESC LIMIT 1", params),
        (
            f"SELECT c.unit_id, c.assignee_id, {counts} {within} GROUP BY 1, 2",
            params,
        ),
        (
            "SELECT count(*), count(*) FILTER (WHERE c.overdue), count(*) FILTER (WHERE EXISTS ("
            "SELECT 1 FROM cases_supervision s WHERE s.case_id = c.id AND s.status = 'open')) "
            f"{base} AND c.stage IN ('reported', 'registered', 'dispatched', 'handling', 'handled')",
            params,
        ),
        (
            f"SELECT c.estate_id, c.building_group_id, count(*) {within} AND c.estate_id IS NOT NULL GROUP BY 1, 2",
            params,
        ),
        (f"SELECT big.code, big.name, big.kind, {months} {categories} GROUP BY 1, 2, 3 ORDER BY 1", params),
        (
            "SELECT e.unit_id, u.name, count(*) FROM cases_caseevent e LEFT JOIN org_unit u ON u.id = e.unit_id "
            f"WHERE e.action = 'return' AND e.case_id IN (SELECT c.id {within}) GROUP BY 1, 2 ORDER BY 3 DESC, 2",
            params,
        ),
    ]


def floor_assessment(path: str, period, department_ids: list[int]):
    """The assessment's queries by hand, for a district role (every case and summons in scope)."""
    params = {"p": path + "%", "s": period.start, "e": period.end, "d": department_ids}
    scoped = "SELECT c.id FROM cases_case c JOIN org_unit place ON place.id = c.unit_id WHERE place.path LIKE %(p)s"
    return [
        *[
            (
                "SELECT c.reported_at FROM cases_case c JOIN org_unit place ON place.id = c.unit_id "
                f"WHERE place.path LIKE %(p)s ORDER BY c.reported_at {direction} LIMIT 1",
                params,
            )
            for direction in ("ASC", "DESC")
        ],
        (
            "SELECT e.unit_id, e.action, count(*) FROM cases_caseevent e "
            "WHERE e.action IN ('dispatch', 'redispatch', 'return') AND e.unit_id = ANY(%(d)s) "
            f"AND e.created_at >= %(s)s AND e.created_at < %(e)s AND e.case_id IN ({scoped}) GROUP BY 1, 2",
            params,
        ),
        (
            "SELECT c.assignee_id, count(*), count(*) FILTER (WHERE NOT c.handled_late), "
            "count(*) FILTER (WHERE c.rating <> ''), count(*) FILTER (WHERE c.rating IN ('satisfied', 'basically')) "
            "FROM cases_case c JOIN org_unit place ON place.id = c.unit_id WHERE place.path LIKE %(p)s "
            "AND c.closed_at >= %(s)s AND c.closed_at < %(e)s AND c.stage = 'closed' AND c.assignee_id = ANY(%(d)s) "
            "GROUP BY 1",
            params,
        ),
        (
            "SELECT s.department_id, count(*), count(*) FILTER (WHERE s.answered_on_time), sum(s.rating_timeliness), "
            "count(s.rating_timeliness), sum(s.rating_result), count(s.rating_result) FROM cases_summons s "
            "JOIN org_unit street ON street.id = s.street_id WHERE street.path LIKE %(p)s "
            "AND s.created_at >= %(s)s AND s.created_at < %(e)s AND s.department_id = ANY(%(d)s) GROUP BY 1",
            params,
        ),
    ]


def run_sql(queries) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            cursor.fetchall()


@dataclass
class PageResult:
    label: str
    page: Timing
    floor: Timing
    orm: Timing | None = None


def bench_pages(server: Server, count: int) -> list[PageResult]:
    from shequ.cases import selectors
    from shequ.cases.models import Case
    from shequ.cases.queues import QUEUES, queue_cases
    from shequ.org.models import Unit, User

    street = Unit.objects.get(code="310106006")
    district = Unit.objects.get(code="310106")
    department = Unit.objects.get(name="区房管局")
    department_ids = list(Unit.objects.filter(kind="department", is_active=True).values_list("pk", flat=True))
    span = selectors.reported_span(Case.objects.all())
    period = selectors.rolling_year(span.last)

    def orm_queue(username, name):
        user = User.objects.get(username=username)

        def run():
            # The queue's own queryset (cases.queues, as the page reads it), counted and its first page read.
            queryset = queue_cases(user, QUEUES[name]).select_related("category__parent", "unit", "assignee")
            queryset.count()
            list(queryset[:25])

        return run

    def orm_dashboard(username, unit):
        user = User.objects.get(username=username)

        def run():
            selectors.reported_span(selectors.case_scope(user, unit))
            selectors.dashboard(user, unit, period)

        return run

    def orm_assessment(username):
        user = User.objects.get(username=username)

        def run():
            selectors.assessment_span(user)
            selectors.assessment(user, period)

        return run

    plan = [
        (
            "待派遣队列（街道，jiangning）",
            "/cases/queue/to-dispatch/",
            "jiangning",
            lambda: run_sql(floor_to_dispatch(street.path)),
            orm_queue("jiangning", "to-dispatch"),
            count,
        ),
        (
            "派给本单位队列（部门，fangguan）",
            "/cases/queue/assigned/",
            "fangguan",
            lambda: run_sql(floor_assigned(department.pk, department.path)),
            orm_queue("fangguan", "assigned"),
            count,
        ),
        (
            "数据看板（区，district，近12个月）",
            "/cases/dashboard/",
            "district",
            lambda: run_sql(
                floor_dashboard(district.path, period, selectors.child_prefix_length(district), None)
            ),
            orm_dashboard("district", district),
            max(10, count // 5),
        ),
        (
            "数据看板（街道，jiangning，近12个月）",
            "/cases/dashboard/",
            "jiangning",
            lambda: run_sql(
                floor_dashboard(street.path, period, selectors.child_prefix_length(street), street.path)
            ),
            orm_dashboard("jiangning", street),
            count,
        ),
        (
            "部门考评（区，district，近12个月）",
            "/cases/assessment/",
            "district",
            lambda: run_sql(floor_assessment(district.path, period, department_ids)),
            orm_assessment("district"),
            max(10, count // 5),
        ),
    ]
    results = []
    for label, path, username, floor, orm, n in plan:
        headers = session_cookie(username)
        for _warm in range(3):
            status, _body = request(server.port, "GET", path, headers=headers)
            assert status == 200, (path, status)
            floor()
            orm()
        # Interleaved (page, floor, ORM, page, ...), so that background load weighs on the three alike.
        timings = [Timing(), Timing(), Timing()]
        steps = (
            lambda path=path, headers=headers: request(server.port, "GET", path, headers=headers),
            floor,
            orm,
        )
        for _n in range(n):
            for timing, step in zip(timings, steps, strict=True):
                started = time.perf_counter()
                step()
                timing.samples.append(time.perf_counter() - started)
        results.append(PageResult(label, *timings))
        print(
            f"  {label}: 页面 p50 {results[-1].page.p50:.1f} ms，手写 SQL p50 {results[-1].floor.p50:.1f} ms",
            flush=True,
        )
    return results


FRAME_PATH = "/accounts/password/"


def bench_frame(server: Server, count: int) -> Timing:
    """The page frame alone: an authenticated page with the navigation, the unread-notification count and
    one small form (修改密码), and no list. What every page pays before its own work, beside which a
    queue's floor is measured."""
    headers = session_cookie("jiangning")
    for _warm in range(3):
        status, _body = request(server.port, "GET", FRAME_PATH, headers=headers)
        assert status == 200, (FRAME_PATH, status)
    timing = Timing()
    for _n in range(count):
        started = time.perf_counter()
        status, _body = request(server.port, "GET", FRAME_PATH, headers=headers)
        timing.samples.append(time.perf_counter() - started)
        if status != 200:
            timing.errors += 1
    print(f"  页面框架 {FRAME_PATH}: p50 {timing.p50:.1f} ms", flush=True)
    return timing


def bench_homes(server: Server, count: int) -> list[tuple[str, str, Timing, int]]:
    """Each demo role's home page: warmed, then requested `count` times, the roles in turn (so that
    background load weighs on all alike). Returns (username, label, timing, page size in bytes)."""
    roles = [(username, label, session_cookie(username)) for username, label in HOME_ROLES]
    sizes = {}
    for username, _label, headers in roles:
        for _warm in range(3):
            status, body = request(server.port, "GET", "/", headers=headers)
            assert status == 200, ("/", username, status)
            sizes[username] = len(body)
    timings = {username: Timing() for username, _label, _headers in roles}
    for _n in range(count):
        for username, _label, headers in roles:
            started = time.perf_counter()
            status, _body = request(server.port, "GET", "/", headers=headers)
            timings[username].samples.append(time.perf_counter() - started)
            if status != 200:
                timings[username].errors += 1
    results = []
    for username, label, _headers in roles:
        timing = timings[username]
        results.append((username, label, timing, sizes[username]))
        print(f"  首页 {username}: p50 {timing.p50:.1f} ms，p95 {timing.p95:.1f} ms", flush=True)
    return results


def bench_cpu(count: int) -> list[tuple[str, Timing, Timing, Timing | None]]:
    """The queue pages and the home pages requested in this process (Django's test client, no server),
    timed in CPU seconds of this process as well as on the clock, beside the queues' floors. On a machine
    shared with other work the clock counts the time spent waiting for a core; the CPU time does not.
    A page's CPU time is a lower bound of its time on an idle machine, and the floor measured on the
    same busy machine an upper bound of the floor's, so page CPU / floor bounds the ratio from below.
    Returns (label, CPU, clock, floor or None)."""
    from django.test import Client

    from shequ.org.models import Unit, User

    street = Unit.objects.get(code="310106006")
    department = Unit.objects.get(name="区房管局")
    targets = [
        ("待派遣队列（jiangning）", "/cases/queue/to-dispatch/", "jiangning", floor_to_dispatch(street.path)),
        (
            "派给本单位队列（fangguan）",
            "/cases/queue/assigned/",
            "fangguan",
            floor_assigned(department.pk, department.path),
        ),
        *[(f"首页（{username}）", "/", username, None) for username, _label in HOME_ROLES],
    ]
    results = []
    for label, path, username, floor in targets:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        for _warm in range(3):
            assert client.get(path).status_code == 200, (path, username)
        cpu, clock, floor_timing = Timing(), Timing(), Timing() if floor else None
        for _n in range(count):
            started, spent = time.perf_counter(), time.process_time()
            client.get(path)
            cpu.samples.append(time.process_time() - spent)
            clock.samples.append(time.perf_counter() - started)
            if floor:
                started = time.perf_counter()
                run_sql(floor)
                floor_timing.samples.append(time.perf_counter() - started)
        results.append((label, cpu, clock, floor_timing))
        print(
            f"  {label}: CPU p50 {cpu.p50:.1f} ms，p95 {cpu.p95:.1f} ms；时钟 p50 {clock.p50:.1f} ms",
            flush=True,
        )
    return results


# 3. The sweep --------------------------------------------------------------------------------------------


class Rollback(Exception):
    pass


def bench_sweep(info: dict) -> list[tuple[str, float, object]]:
    """Twice, each time rolled back: the regular run just after the data's own time (a handful of cases
    cross a threshold), and a catch-up run a month later, when every open case is long overdue."""
    from django.db import transaction

    from shequ.cases.models import Case
    from shequ.cases.services import sweep_deadlines
    from shequ.core.workdays import SHANGHAI

    # The data's own time: the moment its year was loaded up to (before that was recorded: the last report).
    if info.get("now"):
        anchor = datetime.datetime.fromisoformat(info["now"]).astimezone(SHANGHAI)
    else:
        anchor = Case.objects.order_by("-reported_at").values_list("reported_at", flat=True)[0]
    anchor = anchor.astimezone(SHANGHAI).date()
    # The next morning: the night's deadlines have passed, the morning's warnings are due.
    regular = datetime.datetime.combine(
        anchor + datetime.timedelta(days=1), datetime.time(10), tzinfo=SHANGHAI
    )
    results = []
    for label, now in (
        ("例行扫描（数据时点后的次日上午10时）", regular),
        ("补扫（数据时点后30天：全部在办案件均已超时）", regular + datetime.timedelta(days=30)),
    ):
        try:
            with transaction.atomic():
                started = time.perf_counter()
                report = sweep_deadlines(now=now)
                elapsed = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        results.append((label, elapsed, report))
        print(
            f"  {label}: {elapsed:.2f} s（预警 {report.warned}，超时 {report.overdue}，督办 {report.supervised}）",
            flush=True,
        )
    return results


# Report ------------------------------------------------------------------------------------------------


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}×" if floor else "—"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "CPU 型号未知"


def render(
    info: dict, intake: dict | None, pages: list[PageResult], homes: list, sweeps, args, cpu=(), frame=None
) -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    database = urlsplit(database_url()).path.lstrip("/")
    anchor = f"，一年截至 {info['now'][:16].replace('T', ' ')}" if info.get("now") else ""
    lines = [
        MARK_START,
        "## 一网统管",
        "",
        f"`{args.command}`（{datetime.date.today():%Y-%m-%d}）：PostgreSQL {pg_version}，Django {django.get_version()}，"
        f"Python {sys.version.split()[0]}，{os.cpu_count()} 核（{cpu_model()}）；数据库 `{database}`："
        f"{info.get('cases_now', 0):,} 件案件（load_demo_cases{anchor}，{info.get('events', 0):,} 条流转记录，"
        f"{info.get('supervisions', 0):,} 条督办，{info.get('summonses', 0):,} 次约请，"
        f"{info.get('notifications', 0):,} 条通知），区级规模的小区和楼组（不含居民）。",
        "",
    ]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines += [
        f"运行结束时的系统负载（1/5/15 分钟）：{load}。同一台机器上还有其他进程在运行时，各项按轮次交替测量，"
        "使背景负载对页面、ORM 和底线的影响相同；比值比绝对值更可靠。",
        "",
    ]
    if info.get("load_seconds"):
        lines += [f"载入 {info.get('cases', 0):,} 件案件用时 {info['load_seconds']} s（PostgreSQL）。", ""]
    if intake:
        i, f = intake["intake"], intake["floor"]
        lines += [
            f"### 受理（gunicorn 2 个同步进程，{args.concurrency} 个并发客户端，各 {args.seconds:g} s）",
            "",
            "| 端点 | 请求/秒 | p50 ms | p99 ms | 错误 |",
            "|---|---:|---:|---:|---:|",
            f"| POST /api/v1/cases/（受理：令牌认证、校验、编号、职责清单、时限、流转记录、审计） | {i.rate:.0f} | "
            f"{i.p50:.1f} | {i.p99:.1f} | {i.errors} |",
            f"| 底线：最小 Django 端点，一条 INSERT | {f.rate:.0f} | {f.p50:.1f} | {f.p99:.1f} | {f.errors} |",
            "",
            f"受理吞吐为底线的 {i.rate / f.rate:.0%}（压测客户端与服务器、数据库共用这 {os.cpu_count()} 核）。",
            "",
        ]
    if pages:
        lines += [
            f"### 工作队列、看板与考评（顺序请求，各 {args.requests} 次；区级看板和考评 {max(10, args.requests // 5)} 次）",
            "",
            "| 页面 | 页面 p50 | 页面 p95 | 同样查询的 ORM p50 | 手写 SQL p50（底线） | 手写 SQL p95 | 页面/底线 | ORM/底线 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in pages:
            lines.append(
                f"| {result.label} | {result.page.p50:.1f} | {result.page.p95:.1f} | {result.orm.p50:.1f} | "
                f"{result.floor.p50:.1f} | {result.floor.p95:.1f} | {ratio(result.page.p50, result.floor.p50)} | "
                f"{ratio(result.orm.p50, result.floor.p50)} |"
            )
        lines += [
            "",
            "单位：毫秒。页面经 gunicorn 通过 HTTP 请求（含会话、权限、模板）；ORM 一列为页面所用的同一查询集在进程内的耗时。",
            "",
        ]
        if frame is not None:
            queue_floors = [result.floor.p50 for result in pages if "队列" in result.label]
            against = "；".join(
                f"{result.label.split('（')[0]}底线的 {ratio(frame.p50, result.floor.p50)}"
                for result in pages
                if "队列" in result.label
            )
            lines += [
                f"参照：只有页面框架（会话、权限、导航、未读通知数和一个小表单，没有列表）的页面 `{FRAME_PATH}` "
                f"p50 {frame.p50:.1f} ms、p95 {frame.p95:.1f} ms，即{against}。"
                if queue_floors
                else f"参照：只有页面框架的页面 `{FRAME_PATH}` p50 {frame.p50:.1f} ms。",
                "",
            ]
    if homes:
        lines += [
            f"### 各角色首页（待办）（顺序请求，六个账号轮流，各 {args.requests} 次）",
            "",
            "| 账号 | 角色 | 页面 p50 ms | 页面 p95 ms | 页面大小 KB | 错误 | 门槛 p95 < 150 ms |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for username, label, timing, size in homes:
            verdict = "达标" if timing.p95 < HOME_P95_MS and not timing.errors else "未达标"
            lines.append(
                f"| {username} | {label} | {timing.p50:.1f} | {timing.p95:.1f} | {size / 1024:.0f} | "
                f"{timing.errors} | {verdict} |"
            )
        lines.append("")
    if cpu:
        lines += [
            f"### 进程内的 CPU 时间（Django 测试客户端，不经服务器，各 {args.requests} 次）",
            "",
            "| 页面 | CPU p50 ms | CPU p95 ms | 时钟 p50 ms | 手写 SQL p50 ms | CPU p50 ÷ 手写 SQL p50（比值的下限） |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for label, spent, clock, floor in cpu:
            bound = ratio(spent.p50, floor.p50) if floor else "—"
            floor_text = f"{floor.p50:.1f}" if floor else "—"
            lines.append(
                f"| {label} | {spent.p50:.1f} | {spent.p95:.1f} | {clock.p50:.1f} | {floor_text} | {bound} |"
            )
        lines += [
            "",
            "CPU 时间不含等待处理器的时间，是页面在空闲机器上耗时的下限（另加数据库服务器的时间）；同一台繁忙机器上"
            "测得的手写 SQL 耗时是其空闲时的上限，所以两者之比是“页面/底线”真实比值的下限。",
            "",
        ]
    verdicts = thresholds(pages, homes)
    if verdicts:
        lines += ["### 对照 issue 9 的门槛", "", "| 门槛 | 实测 | 结论 |", "|---|---|---|", *verdicts, ""]
    if sweeps:
        lines += [
            "### 时限扫描（sweep_deadlines，事务内执行后回滚）",
            "",
            "| 情形 | 用时 s | 预警 | 超时 | 新督办 |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, elapsed, report in sweeps:
            lines.append(
                f"| {label} | {elapsed:.2f} | {report.warned} | {report.overdue} | {report.supervised} |"
            )
        lines.append("")
    lines.append(ANALYSIS.strip())
    lines.append("")
    lines.append(MARK_END)
    return "\n".join(lines)


def thresholds(pages: list[PageResult], homes: list) -> list[str]:
    """Issue 9's thresholds as table rows: each queue page within 5x of its floor at p50, every home page
    under 150 ms at p95."""
    rows = []
    for result in pages:
        if "队列" not in result.label:
            continue
        times = result.page.p50 / result.floor.p50 if result.floor.p50 else float("inf")
        rows.append(
            f"| {result.label}：页面 p50 ≤ {QUEUE_RATIO:g} × 手写 SQL p50 | {result.page.p50:.1f} ms ÷ "
            f"{result.floor.p50:.1f} ms = {times:.1f}× | {'达标' if times <= QUEUE_RATIO else '未达标'} |"
        )
    if homes:
        worst = max(homes, key=lambda home: home[2].p95)
        ok = all(home[2].p95 < HOME_P95_MS and not home[2].errors for home in homes)
        rows.append(
            f"| 各角色首页 p95 < {HOME_P95_MS:g} ms（{len(homes)} 个账号） | 最慢 {worst[0]} {worst[2].p95:.1f} ms | "
            f"{'达标' if ok else '未达标'} |"
        )
    return rows


# What the figures above showed and what was changed for them (kept with the section; the numbers are
# those of the runs named).
ANALYSIS = """
### 分析与改进（2026-11-29；工作队列 2026-12-03）

**数据看板**。第一次测量（300,000 件，近12个月）：区级页面 p50 1,467 ms、同形手写 SQL 1,442 ms；街道
955 ms / 914 ms。比值已在 2× 以内，但 EXPLAIN ANALYZE 显示绝对耗时来自查询形状而非 ORM，于是改写了
`cases/selectors.py`（没有增加索引，也没有迁移）：

| 查询 | 问题（EXPLAIN ANALYZE） | 改为 | 区级耗时 |
|---|---|---|---|
| 受理时间的起止（默认期间） | `MIN/MAX` 聚合读完全部范围内案件 | 两次 `ORDER BY reported_at [DESC] LIMIT 1`，沿 reported_at 索引遇到第一件即停 | 150 → 0.3 ms |
| 各大类按月案件量 | `GROUP BY DATE_TRUNC('month', …)`：PostgreSQL 对表达式分组估计 30 万组，排序 30 万行并落盘（external merge 16 MB） | 按大类分组，每月一个条件计数 `COUNT(*) FILTER (WHERE 受理时间在该月)` | 543 → 187 ms |
| 分单位、职能部门排名 | 两次全扫描，按 `SUBSTRING(path)` 表达式分组须先排序全部行；合成一次按表达式分组时，估计 30 万组并落盘排序（32 MB，667 ms） | 一次扫描按 `(unit_id, assignee_id)` 普通列分组（约 5,000 组），在 Python 中按上级单位和部门分别求和 | 200 + 188 → 273 ms |
| 案件最多的小区、楼组 | 两次全扫描 | 一次扫描按 `(estate_id, building_group_id)` 分组，小区在 Python 中求和 | 137 + 166 → 234 ms |

改后（表中本次运行）：区级约 0.85–1.1 s、街道约 0.45–0.55 s，仍与手写 SQL 持平（1.0–1.1×）。余下的耗时是读取
一年 30 万行：五次扫描各 150–270 ms，加退单统计（按 `action` 索引取约 1.5 万条退单记录再逐条回查案件）约
140 ms。读整年数据的查询，索引帮不上；再要更快，应由指标快照（DESIGN.md “Indicators”：按指标 × 单位 × 期间
存储）或只读副本提供看板，而不是实时聚合。

**工作队列**（2026-12-03 重测，issue 9）。改前（同一 300,000 件的库，gunicorn，p50）：待派遣 70.9 ms、
派给本单位 133.7 ms，是手写 SQL 的 20.6× 和 10.3×。进程内剖析：约八成时间在渲染——django-tables2 逐格渲染
（每格一次 `inspect.signature`、每格重算列属性和表头、日期列每格渲染一个模板）和筛选表单的下拉框（Django 为
约 100 个 `<option>` 各 include 一次模板）；另外列表视图和表格各分页一次（同一个 COUNT 两次），类别、街道下拉
经 PostgreSQL 服务器端游标读出整个模型对象（每个三次往返）。改为：`core.tables.rows_html`（每列只算一次属性、
表头和签名）、`core.tables.DateTimeColumn`（不经模板）、`core.renderers.FormRenderer`（下拉框在 Python 中
写出）、`ScopedListView.paginate_queryset` 不再分页（只由表格分页）、类别和街道筛选读两三列的元组；只有一个
环节的队列不再显示“环节”“情形”两个筛选。页面输出逐字不变（`cases/tests/test_rendering.py` 对照
django-tables2 和 Django 自己的渲染）。结果见上表：两页都约快一倍，派给本单位接近 5×。

**待派遣为什么仍未到 5×**：这一队列的手写 SQL 只要约 3 ms（队列里只有 7 件），5× 即约 15 ms；而只有页面框架
的页面（上表下的“参照”）本身就要约 11 ms，已占去约四分之三。进程内测得待派遣页面其余的时间：筛选表单约
4 ms、表格（9 个排序表头链接、行、分页）约 5 ms、8 条查询约 4–6 ms（会话、用户、角色、未读通知数、类别和
街道选项、COUNT、当页各行）。要再接近 5×，得削减每个页面都付的框架开销（导航每页约 40 次权限判断，可按会话
缓存），或让队列页不带完整的筛选表单——两者都改变别的页面或用法，没有在这次做。

**受理**。进程内一次受理约 20 ms、28 条查询，其中 SQL 只占 2 ms，其余是 ORM 与 DRF 的 Python 开销。
`report_case` 里的 `full_clean()` 会重新读取 6 个外键对象、检查编号和令牌唯一（8 条查询）：改为
`clean_fields(exclude=外键)` + `clean()` 实测 19.8 → 16.4 ms。测量之后已在 `report_case` 中跳过这些重复
校验（外键已是受限查询集或查找给出的对象，编号来自加锁的序列），未重新测量。

**时限扫描**远低于 5 s：例行扫描 0.2 s，全部在办案件同时超时的补扫 1.4 s（4,280 件超时、4,400 件督办），
使用已有的 `(stage, stage_deadline)` 索引。


### 修正后的复测（2026-11-29，`python -m bench cases --only pages --requests 40 --no-doc`）

类别下拉加 `select_related("parent")`、承办单位只列部门和可见单位、`report_case` 跳过重复校验之后，同一数据库
（300,000 件）再测页面（同时有其他测试在这 2 核上运行）：

| 页面 | 页面 p50 | 页面 p95 | 同样查询的 ORM p50 | 手写 SQL p50（底线） | 页面/底线 | ORM/底线 |
|---|---:|---:|---:|---:|---:|---:|
| 待派遣队列（街道，jiangning） | 29.7 | 36.8 | 4.3 | 2.2 | 13.7× | 2.0× |
| 派给本单位队列（部门，fangguan） | 80.1 | 95.7 | 14.4 | 10.5 | 7.6× | 1.4× |
| 数据看板（区，district） | 949.3 | 1010.9 | 933.2 | 856.6 | 1.1× | 1.1× |
| 数据看板（街道，jiangning） | 601.4 | 648.1 | 576.7 | 566.2 | 1.1× | 1.0× |
| 部门考评（区，district） | 601.5 | 699.3 | 589.0 | 576.9 | 1.0× | 1.0× |

查询（ORM 对手写 SQL）和看板都在 2× 以内；待派遣页面 56 → 30 ms。页面与底线之间的差距是模板渲染
（筛选表单、25 行表格、导航），不是查询：队列里只有几件案件时，SQL 只占页面时间的一小部分。
"""


def write_doc(section: str) -> None:
    """Replace this benchmark's section of docs/performance.md, leaving the other sections alone."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = (
        DOC.read_text()
        if DOC.exists()
        else "# 性能 Performance\n\n各基准由 `make bench`（`python -m bench`）运行并写入本页。\n"
    )
    pattern = re.compile(re.escape(MARK_START) + ".*?" + re.escape(MARK_END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cases", description="一网统管基准")
    parser.add_argument("--cases", type=int, default=300_000, help="首次载入的案件数（默认 300000）")
    parser.add_argument("--requests", type=int, default=100, help="每个页面的顺序请求次数")
    parser.add_argument("--seconds", type=float, default=20, help="受理压测的持续秒数")
    parser.add_argument("--concurrency", type=int, default=8, help="受理压测的并发客户端数")
    parser.add_argument(
        "--only",
        choices=["intake", "pages", "homes", "cpu", "sweep"],
        action="append",
        help="只运行某几项（cpu：队列页和首页在进程内的 CPU 时间，机器繁忙时用）",
    )
    parser.add_argument("--no-doc", action="store_true", help="不写入 docs/performance.md")
    args = parser.parse_args(argv)
    only = set(args.only or ["intake", "pages", "homes", "cpu", "sweep"])
    args.command = " ".join(["python -m bench cases", *(argv if argv is not None else sys.argv[2:])])

    url = database_url()
    parts = urlsplit(url)
    print(f"数据库：{parts.hostname}:{parts.port or 5432}{parts.path}", flush=True)
    configure(url)
    info = prepare(args.cases)
    print(f"案件：{info['cases_now']:,}", flush=True)

    intake, pages, homes, sweeps, frame = None, [], [], [], None
    if only & {"intake", "pages", "homes"}:
        server = Server(workers=2)
        try:
            if "intake" in only:
                print("受理……", flush=True)
                intake = bench_intake(server, args.concurrency, args.seconds)
            if "pages" in only:
                print("页面……", flush=True)
                pages = bench_pages(server, args.requests)
                frame = bench_frame(server, args.requests)
            if "homes" in only:
                print("各角色首页……", flush=True)
                homes = bench_homes(server, args.requests)
        finally:
            server.stop()
    cpu = []
    if "cpu" in only:
        print("进程内 CPU 时间……", flush=True)
        cpu = bench_cpu(args.requests)
    if "sweep" in only:
        print("时限扫描……", flush=True)
        sweeps = bench_sweep(info)
    section = render(info, intake, pages, homes, sweeps, args, cpu, frame)
    print()
    print(section.replace(MARK_START, "").replace(MARK_END, "").strip())
    if not args.no_doc:
        write_doc(section)
        print(f"\n已写入 {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
