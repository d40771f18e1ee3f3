"""居民 Excel 导入导出基准 (`python -m bench excel`): the residents register (registry.excel.ResidentRegister)
on SQLite and on PostgreSQL.

For each database, a fresh one (SQLite: a file under a temporary directory; PostgreSQL: `shequ_bench_excel`,
dropped and recreated on the server of SHEQU_BENCH_DATABASE_URL / SHEQU_DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/), migrated and loaded with `load_demo("demo")` (units, places, accounts,
~6,000 synthetic residents):

1. an .xlsx of N new residents (default 100,000) in the building groups of 江宁路街道 (310106006), with
   the register's headers, valid and unique synthetic GB 11643 numbers (region 310106, sequence codes
   900–999, birth dates from 1900 on, none equal to a number already in the database) and phone numbers;
2. the check (`ImportRun(write=False)`), the commit (`write=True`) and the export of the same rows
   (`write_export`), each in a process of its own, so that each one's peak RSS (ru_maxrss) is its own;
3. the floors: for the import, the same rows, values pre-computed (encrypted, indexed, masked), written with
   PostgreSQL's `COPY registry_resident FROM STDIN` (and, on SQLite, one executemany INSERT), then deleted;
   for the export, the same columns read by hand-written SQL (COPY ... TO STDOUT on PostgreSQL);
4. memory for a 1,000,000-row file (far above CALAMINE_MAX_BYTES: the openpyxl streaming reader): its check on
   both databases, its real import on PostgreSQL, and the export of the 1,000,000 residents.

The bar (the issue): import ≥ 2,000 rows/s end to end (with validation and encryption; reported for the import
alone and for the page's two steps, check + import), export ≥ 10,000 rows/s, peak memory < 500 MB for a
1,000,000-row file. The figures go to
docs/performance.md, section 居民 Excel 导入导出. `--profile` runs the check and the commit under cProfile."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "var" / "bench" / "excel.json"  # the last run's figures, as measured
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"
DATABASE = "shequ_bench_excel"
MARK_START = "<!-- bench:excel:start -->"
MARK_END = "<!-- bench:excel:end -->"
RESULT = "BENCH-EXCEL-RESULT "
STREET = "310106006"  # 江宁路街道
USERNAME = "jiangning"  # 江宁路街道 李科员 (street staff: may add and change residents of the street)
NOTE = "Excel基准"  # the 备注 of the benchmark's rows: what the exports select
BIG_NOTE = "Excel基准（大）"
SMALL_START = datetime.date(1900, 1, 1)  # birth dates of the N-row file's numbers start here...
BIG_START = datetime.date(1906, 1, 1)  # ... and the big file's here: the two sets never meet
BARS = {"import": 2000, "export": 10000, "memory_mb": 500}
DATABASES = ("sqlite", "postgres")
COPY_COLUMNS = (
    "unit_id",
    "version",
    "created_at",
    "updated_at",
    "name",
    "gender",
    "birth_date",
    "document_type",
    "id_cipher",
    "id_index",
    "id_masked",
    "phone_cipher",
    "phone_index",
    "phone_masked",
    "household_id",
    "building_group_id",
    "room",
    "residence_type",
    "separated",
    "status",
    "moved_in_on",
    "status_changed_on",
    "note",
)


# Set-up (in the parent: no Django there) --------------------------------------------------------------


def database_url() -> str:
    """Always `shequ_bench_excel`, whatever database the given URL names: this benchmark drops it."""
    server = (
        os.environ.get("SHEQU_BENCH_DATABASE_URL") or os.environ.get("SHEQU_DATABASE_URL") or DEFAULT_SERVER
    )
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{DATABASE}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert name == DATABASE, name
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
        # As docs/deployment.md sets up production on SSD.
        connection.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')


def write_key_file(path: Path) -> None:
    """One personal-data key file for both databases (as tests/testenv.py writes one)."""
    from cryptography.fernet import Fernet

    path.write_text(
        json.dumps({"encryption_keys": [Fernet.generate_key().decode()], "index_key": secrets.token_hex(32)})
    )
    path.chmod(0o600)


def child_env(database: str, workdir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("SHEQU_DATABASE_URL", None)
    env.pop("SHEQU_REDIS_URL", None)
    data_dir = workdir / database
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        SHEQU_DATA_DIR=str(data_dir),
        SHEQU_PERSONAL_DATA_KEY_FILE=str(workdir / "personal_data.key"),
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
    )
    env.setdefault("SHEQU_SECRET_KEY", "bench-only-secret-not-for-production")
    if database == "postgres":
        env["SHEQU_DATABASE_URL"] = database_url()
    return env


def run_phase(phase: str, database: str, workdir: Path, **options) -> dict:
    """One phase in a process of its own (its peak RSS is the phase's); its result is a JSON line."""
    command = [sys.executable, "-m", "bench", "excel", "--phase", phase, "--database", database]
    command += ["--workdir", str(workdir), "--options", json.dumps(options)]
    completed = subprocess.run(
        command, cwd=ROOT, env=child_env(database, workdir), stdout=subprocess.PIPE, text=True
    )
    result = None
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        else:
            print(line, flush=True)
    if completed.returncode or result is None:
        raise RuntimeError(f"阶段 {phase}（{database}）失败，退出码 {completed.returncode}")
    return result


# In the phase's process ---------------------------------------------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> float:
    """This process's CPU time: steadier than the wall clock on a shared machine (time the hypervisor
    gives other guests counts as steal, not here); the database server's own time is not in it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit(result: dict) -> None:
    print(RESULT + json.dumps(result, ensure_ascii=False, default=str), flush=True)


def log(message: str) -> None:
    print(f"  · {message}", file=sys.stderr, flush=True)


def vendor() -> str:
    from django.db import connection

    return connection.vendor


def phase_setup(options: dict) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from shequ.demo.loader import load_demo
    from shequ.registry.models import BuildingGroup, Resident

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    report = load_demo("demo")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    groups = BuildingGroup.objects.filter(unit__path__startswith=f"/310106/{STREET}/").count()
    return {
        "seconds": time.perf_counter() - started,
        "residents": Resident.objects.count(),
        "groups": groups,
        "units": report.units,
    }


def street_groups() -> list[tuple[str, str, str, str]]:
    """The building groups of the street as a committee writes them: residential area (its name, or its
    code where the name is not unique), estate, 楼号, 楼组."""
    from shequ.org.excel import NEIGHBORHOODS
    from shequ.registry.models import BuildingGroup

    areas = NEIGHBORHOODS.load()
    groups = (
        BuildingGroup.objects.filter(unit__path__startswith=f"/310106/{STREET}/")
        .select_related("unit", "building__estate")
        .order_by("id")
    )
    return [(areas.export(g.unit), g.building.estate.name, g.building.number, g.name) for g in groups]


def id_numbers(count: int, start: datetime.date, taken: set[str], rng: random.Random):
    """`count` distinct synthetic GB 11643 numbers (region 310106, sequence codes 900–999, odd for men)
    born from `start` on, in random order, none in `taken`."""
    from stdnum.cn import ric

    days = -(-(count + len(taken)) * 5 // 4 // 100)  # a quarter to spare: the birth dates stay spread
    produced = 0
    for position in rng.sample(range(days * 100), days * 100):
        birth = start + datetime.timedelta(days=position // 100)
        body = f"310106{birth:%Y%m%d}{900 + position % 100:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number in taken:
            continue
        yield number
        produced += 1
        if produced == count:
            return


def resident_rows(count: int, start: datetime.date, note: str, seed: int):
    """The data rows of the input file, in the register's column order (see HEADERS)."""
    from shequ.core import crypto, excel
    from shequ.demo.names import person
    from shequ.registry.models import Resident

    register = excel.get_register("residents")
    groups = street_groups()
    assert groups, "江宁路街道没有楼组：load_demo 未运行？"
    taken = {
        crypto.decrypt(token)
        for token in Resident.objects.exclude(id_cipher="").values_list("id_cipher", flat=True)
    }
    residence = dict(register.by_name["residence_type"].choices)
    status = dict(register.by_name["status"].choices)
    document = dict(register.by_name["document_type"].choices)["resident_id"]
    rng = random.Random(seed)
    # About 2.5 people a household: each group's rooms are enough for its share of the rows.
    rooms = max(1, round(count / len(groups) / 2.5))
    tag_choices = (
        [None] * 85 + ["党员"] * 6 + ["志愿者"] * 3 + ["独居老人"] * 3 + ["党员、志愿者"] * 2 + ["残疾人"]
    )
    for index, number in enumerate(id_numbers(count, start, taken, rng)):
        area, estate, building, group = rng.choice(groups)
        room = rng.randrange(rooms)
        yield [
            None,  # 居民编号: new residents
            area,
            person(rng),
            document,
            number,
            None,  # 性别, 出生日期: from the number
            None,
            f"139{index:08d}" if rng.random() < 0.85 else None,
            estate,
            building,
            group,
            f"{room // 4 + 1}{room % 4 + 1:02d}",
            residence[rng.choices(["registered", "resident", "floating"], weights=[70, 22, 8])[0]],
            "是" if rng.random() < 0.12 else "否",
            rng.choice(tag_choices),
            status["living"],
            datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(12000)),
            None,
            note,
        ]


def phase_generate(options: dict) -> dict:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from shequ.core import excel

    register = excel.get_register("residents")
    headers = [column.header for column in register.columns]
    count, path = options["rows"], Path(options["path"])
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(register.title[:31])
    # Written as a person's Excel file is (shared strings, its size declared): openpyxl's write-only sheets
    # do not declare their size unless told, and its streaming reader would then pre-scan the whole sheet.
    sheet.calculate_dimension = lambda: f"A1:{get_column_letter(len(headers))}{count + 1}"
    sheet.append(headers)
    start = datetime.date.fromisoformat(options["start"])
    for number, row in enumerate(resident_rows(count, start, options["note"], options["seed"]), start=1):
        sheet.append(row)
        if number % 100_000 == 0:
            log(f"已生成 {number:,} 行")
    workbook.save(path)
    return {"seconds": time.perf_counter() - started, "bytes": path.stat().st_size, "rows": count}


def jiangning():
    from shequ.org.models import User

    return User.objects.get(username=USERNAME)


def timed_import(path: Path, write: bool, profile: Path | None = None) -> dict:
    """One ImportRun over the file, timed from the file's opening to the outcome (commit included)."""
    from shequ.core import excel

    register = excel.get_register("residents")
    user = jiangning()
    before = peak_mb()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), cpu_seconds()
    outcome = excel.ImportRun(register, user=user, source=path, write=write).run()
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    if not outcome.ok:
        raise RuntimeError(f"导入文件有问题：{[p.as_dict() for p in outcome.problems[:5]]}")
    rows = outcome.rows_checked
    reader = "python-calamine" if path.stat().st_size <= excel.CALAMINE_MAX_BYTES else "openpyxl（流式）"
    return {
        "calamine_max_bytes": excel.CALAMINE_MAX_BYTES,
        "rows": rows,
        "created": outcome.rows_created,
        "written": outcome.rows_written,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rate": rows / seconds,
        "peak_mb": peak_mb(),
        "base_mb": before,
        "reader": reader,
        "bytes": path.stat().st_size,
    }


def phase_check(options: dict) -> dict:
    return timed_import(Path(options["path"]), write=False, profile=options.get("profile"))


def phase_commit(options: dict) -> dict:
    from shequ.registry.models import Household, Resident

    households = Household.objects.count()
    result = timed_import(Path(options["path"]), write=True, profile=options.get("profile"))
    result["residents_now"] = Resident.objects.count()
    result["households_new"] = Household.objects.count() - households
    return result


def phase_export(options: dict) -> dict:
    from shequ.core import excel

    register = excel.get_register("residents")
    user = jiangning()
    queryset = register.export_queryset(user).filter(note=options["note"])
    before = peak_mb()
    with tempfile.TemporaryFile() as handle:
        started, cpu = time.perf_counter(), cpu_seconds()
        count = excel.write_export(register, user=user, queryset=queryset, fileobj=handle)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        size = handle.tell()
    result = {
        "rows": count,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rate": count / seconds,
        "peak_mb": peak_mb(),
        "base_mb": before,
        "bytes": size,
    }
    if options.get("floor"):
        # The parts, after the peak above was taken (the cells of every row are held in memory here): the
        # writer alone, writing the same cells computed beforehand; and the floor, the same rows read by
        # hand-written SQL (COPY ... TO STDOUT on PostgreSQL), joins included, nothing converted.
        cells = list(excel.export_rows(register, queryset, reveal=False))
        with tempfile.TemporaryFile() as handle:
            started = time.perf_counter()
            excel.write_sheet(handle, title=register.title, columns=register.columns, rows=iter(cells))
            result["writer_seconds"] = time.perf_counter() - started
        result["writer_rate"] = len(cells) / result["writer_seconds"]
        result.update(export_floor(options["note"]))
    return result


EXPORT_SQL = """
    SELECT r.id, u.name, r.name, r.document_type, r.id_masked, r.gender, r.birth_date, r.phone_masked,
           e.name, b.number, g.name, r.room, r.residence_type, r.separated,
           (SELECT string_agg(t.name, '、') FROM registry_resident_tags rt
              JOIN registry_residenttag t ON t.id = rt.residenttag_id WHERE rt.resident_id = r.id),
           r.status, r.moved_in_on, r.status_changed_on, r.note
    FROM registry_resident r
    JOIN org_unit u ON u.id = r.unit_id
    LEFT JOIN registry_buildinggroup g ON g.id = r.building_group_id
    LEFT JOIN registry_building b ON b.id = g.building_id
    LEFT JOIN registry_estate e ON e.id = b.estate_id
    WHERE r.note = %s
    ORDER BY u.path, r.name, r.id
"""


def export_floor(note: str) -> dict:
    """The export's rows read with hand-written SQL: the same columns and joins, in the list's order."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        sql = EXPORT_SQL.replace("%s", "'" + note.replace("'", "''") + "'")
        size = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        method = "COPY (SELECT …) TO STDOUT"
    else:
        cursor = raw.cursor()
        size = len(
            cursor.execute(
                EXPORT_SQL.replace("string_agg(t.name, '、')", "group_concat(t.name, '、')").replace(
                    "%s", "?"
                ),
                [note],
            ).fetchall()
        )
        cursor.close()
        method = "SELECT（sqlite3，fetchall）"
    return {"floor_seconds": time.perf_counter() - started, "floor_method": method, "floor_size": size}


def stored_rows(path: Path, *, ids_from: int | None = None):
    """The file's rows as registry_resident values (COPY_COLUMNS order; with ids_from, an id first), the
    personal values encrypted, indexed and masked as the import stores them; and the tag links."""
    from django.utils import timezone

    from shequ.core import excel
    from shequ.org.excel import NEIGHBORHOODS
    from shequ.registry import services
    from shequ.registry.models import BuildingGroup, ResidentTag

    register = excel.get_register("residents")
    areas = NEIGHBORHOODS.load()
    groups = {}
    for group in BuildingGroup.objects.filter(unit__path__startswith=f"/310106/{STREET}/").select_related(
        "unit", "building__estate"
    ):
        key = (areas.export(group.unit), group.building.estate.name, group.building.number, group.name)
        groups[key] = group
    tags = {tag.name: tag.pk for tag in ResidentTag.objects.all()}
    labels = {
        name: {label: code for code, label in register.by_name[name].choices}
        for name in ("residence_type", "status", "document_type")
    }
    now = timezone.now()

    def produce():  # no query from here on: the caller may be copying on the same connection
        with excel.open_rows(path) as (_declared, rows):
            header = [excel.cell_text(cell) for cell in next(rows)]
            assert header == [c.header for c in register.columns], header
            for offset, cells in enumerate(rows):
                cell = dict(zip(header, cells, strict=False)).get
                group = groups[(cell("居民区"), cell("小区名称"), cell("楼号"), cell("楼组"))]
                document = labels["document_type"][cell("证件类型")]
                personal = services.personal_fields(
                    document_type=document, id_number=cell("证件号码"), phone=excel.cell_text(cell("电话"))
                )
                values = (
                    group.unit_id,
                    1,
                    now,
                    now,
                    cell("姓名"),
                    personal["gender"],
                    personal["birth_date"],
                    document,
                    personal["id_cipher"],
                    personal["id_index"],
                    personal["id_masked"],
                    personal["phone_cipher"],
                    personal["phone_index"],
                    personal["phone_masked"],
                    None,
                    group.pk,
                    excel.cell_text(cell("室号")),
                    labels["residence_type"][cell("人口类型")],
                    cell("人户分离") == "是",
                    labels["status"][cell("状态")],
                    excel.parse_date(cell("入住日期")),
                    None,
                    cell("备注") or "",
                )
                links = [tags[name] for name in excel.cell_text(cell("标签")).split("、") if name]
                if ids_from is not None:
                    yield (ids_from + offset, *values), links
                else:
                    yield values, links

    return produce()


def phase_floor(options: dict) -> dict:
    """The same rows written by the database's fastest path, values pre-computed; then deleted."""
    from django.db import connection

    from shequ.registry.models import Resident

    path = Path(options["path"])
    started = time.perf_counter()
    rows = [values for values, _links in stored_rows(path)]
    prepare_seconds = time.perf_counter() - started
    columns = ", ".join(COPY_COLUMNS)
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "postgresql":
        raw.commit()
        with raw.cursor() as cursor:
            started = time.perf_counter()
            with raw.transaction():
                with cursor.copy(f"COPY registry_resident ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            seconds = time.perf_counter() - started
        method = "COPY registry_resident FROM STDIN"
    else:
        marks = ", ".join("?" * len(COPY_COLUMNS))
        cursor = raw.cursor()
        started = time.perf_counter()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(f"INSERT INTO registry_resident ({columns}) VALUES ({marks})", rows)
        cursor.execute("COMMIT")
        seconds = time.perf_counter() - started
        cursor.close()
        method = "executemany INSERT（一个事务）"
    inserted = Resident.objects.filter(note=options["note"]).count()
    with connection.cursor() as cursor:  # the rows have no tags, household or audit entries
        cursor.execute("DELETE FROM registry_resident WHERE note = %s", [options["note"]])
        deleted = cursor.rowcount
        cursor.execute("VACUUM ANALYZE registry_resident" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "rows": len(rows),
        "inserted": inserted,
        "deleted": deleted,
        "seconds": seconds,
        "rate": len(rows) / seconds,
        "prepare_seconds": prepare_seconds,
        "method": method,
    }


def phase_load_big(options: dict) -> dict:
    """The big file's residents straight into the database (COPY on PostgreSQL, executemany on SQLite),
    with their tag links, for the export of a million rows; not a measurement."""
    from django.db import connection

    from shequ.registry.models import Resident

    path = Path(options["path"])
    started = time.perf_counter()
    first = (Resident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    columns = "id, " + ", ".join(COPY_COLUMNS)
    connection.ensure_connection()
    raw = connection.connection
    count = 0
    links: list[tuple[int, int]] = []
    source = stored_rows(path, ids_from=first)  # its queries run now, before the COPY holds the connection
    if connection.vendor == "postgresql":
        raw.commit()
        with raw.cursor() as cursor, raw.transaction():
            with cursor.copy(f"COPY registry_resident ({columns}) FROM STDIN") as copy:
                for values, tags in source:
                    copy.write_row(values)
                    links += [(values[0], tag) for tag in tags]
                    count += 1
                    if count % 100_000 == 0:
                        log(f"已写入 {count:,} 行")
            with cursor.copy("COPY registry_resident_tags (resident_id, residenttag_id) FROM STDIN") as copy:
                for link in links:
                    copy.write_row(link)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('registry_resident', 'id'), (SELECT max(id) FROM registry_resident))"
            )
        with raw.cursor() as cursor:  # Django's connection is in autocommit mode: VACUUM may run
            cursor.execute("VACUUM ANALYZE registry_resident")
            cursor.execute("VACUUM ANALYZE registry_resident_tags")
    else:
        marks = ", ".join("?" * (len(COPY_COLUMNS) + 1))
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        batch = []
        for values, tags in source:
            batch.append(values)
            links += [(values[0], tag) for tag in tags]
            count += 1
            if len(batch) == 10_000:
                cursor.executemany(f"INSERT INTO registry_resident ({columns}) VALUES ({marks})", batch)
                batch = []
            if count % 100_000 == 0:
                log(f"已写入 {count:,} 行")
        cursor.executemany(f"INSERT INTO registry_resident ({columns}) VALUES ({marks})", batch)
        cursor.executemany(
            "INSERT INTO registry_resident_tags (resident_id, residenttag_id) VALUES (?, ?)", links
        )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
        cursor.close()
    return {"rows": count, "tags": len(links), "seconds": time.perf_counter() - started}


PHASES = {
    "setup": phase_setup,
    "generate": phase_generate,
    "check": phase_check,
    "commit": phase_commit,
    "export": phase_export,
    "floor": phase_floor,
    "load-big": phase_load_big,
}


def run_in_process(phase: str, options: dict) -> int:
    import django

    django.setup()
    result = PHASES[phase](options)
    result["vendor"] = vendor()
    emit(result)
    return 0


# Profiles -------------------------------------------------------------------------------------------------


def print_profile(path: Path, title: str, limit: int = 30) -> str:
    import io
    import pstats

    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    text = f"==== {title} ====\n" + buffer.getvalue()
    print(text, flush=True)
    return text


# Report ---------------------------------------------------------------------------------------------------


def mark(ok: bool) -> str:
    return "达标" if ok else "未达标"


def render(results: dict, args) -> str:
    import django

    lines = [
        MARK_START,
        "## 居民 Excel 导入导出",
        "",
        f"`{args.command}`（{datetime.date.today():%Y-%m-%d}）：{os.cpu_count()} 核，"
        f"{results.get('machine', '')}，Django {django.get_version()}，Python {sys.version.split()[0]}，"
        f"PostgreSQL {results.get('pg_version', '—')}，SQLite {results.get('sqlite_version', '—')}。"
        f"每个数据库新建（SQLite：临时目录下的新文件；PostgreSQL：删除并重建 `{DATABASE}`），迁移后运行 "
        f'`load_demo("demo")`（区划、小区楼组、账号和约 6,000 名合成居民）。',
        "",
        f"输入：{args.rows:,} 名新居民的 .xlsx（openpyxl 写入模式生成，登记簿的列名；合成的 GB 11643 号码："
        f"区划 310106、顺序码 900–999、出生日期自 1900 年起，不与库中已有号码重复；85% 填有手机号；"
        f"分布在江宁路街道的全部楼组，约 2.5 人一户；15% 带标签），{results.get('small_mb', 0):.1f} MB，"
        f"低于 CALAMINE_MAX_BYTES（{results.get('calamine_mb', 0):.0f} MB），由 python-calamine 读取。"
        f"以街道科员 `{USERNAME}` 的身份运行 `ImportRun`（检查：write=False；导入：write=True，一个事务），"
        "导出用 `write_export`（打码），每一步在单独的进程中运行，峰值内存为该进程的 ru_maxrss"
        "（含 Django 本身约 80 MB，括号内为开始计时前的值）。CPU 为该进程的用户态加内核态时间：这台机器与别的"
        "虚拟机共用物理核，墙钟时间在两次运行之间可差 10–20%，CPU 时间较稳；PostgreSQL 服务器进程的时间不在其中。"
        f"PostgreSQL 库按 docs/deployment.md 设 random_page_cost = 1.1（SSD）。",
        "",
        "| 数据库 | 步骤 | 行数 | 用时 s | CPU s | 行/秒 | 峰值内存 MB | 门槛 | 结论 |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]

    def cpu(result: dict) -> str:
        return f"{result['cpu_seconds']:.1f}" if "cpu_seconds" in result else ""

    for database in args.databases:
        found = results.get(database)
        if not found:
            continue
        name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[database]
        check, commit, export, floor = found["check"], found["commit"], found["export"], found.get("floor")
        both = check["seconds"] + commit["seconds"]
        end_to_end = args.rows / both
        lines += [
            f"| {name} | 检查（试运行：读取、校验，不写入） | {check['rows']:,} | {check['seconds']:.1f} | {cpu(check)} | "
            f"{check['rate']:,.0f} | {check['peak_mb']:.0f}（{check['base_mb']:.0f}） | | |",
            f"| {name} | **导入（一遍：读取、校验、加密、写入、审计，一个事务）** | {commit['rows']:,} | "
            f"{commit['seconds']:.1f} | {cpu(commit)} | **{commit['rate']:,.0f}** | "
            f"{commit['peak_mb']:.0f}（{commit['base_mb']:.0f}） | ≥ {BARS['import']:,} 行/秒 | "
            f"{mark(commit['rate'] >= BARS['import'])} |",
            f"| {name} | **页面上的两步：检查 + 导入** | {args.rows:,} | {both:.1f} | | **{end_to_end:,.0f}** | | "
            f"≥ {BARS['import']:,} 行/秒 | {mark(end_to_end >= BARS['import'])} |",
            f"| {name} | 导出 | {export['rows']:,} | {export['seconds']:.1f} | {cpu(export)} | "
            f"**{export['rate']:,.0f}** | {export['peak_mb']:.0f}（{export['base_mb']:.0f}） | "
            f"≥ {BARS['export']:,} 行/秒 | {mark(export['rate'] >= BARS['export'])} |",
        ]
        if "writer_seconds" in export:
            lines.append(
                f"| {name} | 导出的写文件部分：同样的单元格预先算好，只由 `write_sheet`（rust_xlsxwriter）写出 | "
                f"{export['rows']:,} | {export['writer_seconds']:.1f} | | {export['writer_rate']:,.0f} | | | |"
            )
        if "floor_seconds" in export:
            lines.append(
                f"| {name} | 底线：同样的列和连接，手写 SQL 读出（{export['floor_method']}） | {export['rows']:,} | "
                f"{export['floor_seconds']:.2f} | | {export['rows'] / export['floor_seconds']:,.0f} | | 导出/底线 = "
                f"{export['seconds'] / export['floor_seconds']:.0f}× | |"
            )
        if floor:
            lines.append(
                f"| {name} | 底线：{floor['method']}（值已预先加密、索引、打码） | {floor['rows']:,} | "
                f"{floor['seconds']:.2f} | | {floor['rate']:,.0f} | | 导入/底线 = "
                f"{commit['seconds'] / floor['seconds']:.0f}× | |"
            )
    lines.append("")
    big = results.get("big")
    if big:
        lines += [
            f"### {big['rows']:,} 行的文件",
            "",
            f"同样生成的 {big['rows']:,} 行文件，{big['mb']:.0f} MB（生成用时 {big['generate_seconds']:.0f} s），远超 "
            "CALAMINE_MAX_BYTES，由 openpyxl 只读模式流式读取。检查在单独的进程中跑完整个文件；PostgreSQL 上再真正"
            "导入整个文件（一个事务），SQLite 上则把这些居民（连同标签）直接写入数据库（executemany）；然后以同一用户"
            "导出这些居民。",
            "",
            "| 数据库 | 步骤 | 行数 | 用时 s | 行/秒 | 峰值内存 MB | 门槛 | 结论 |",
            "|---|---|---:|---:|---:|---:|---|---|",
        ]
        for database in args.databases:
            name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[database]
            if check := big.get(f"check_{database}"):
                lines.append(
                    f"| {name} | 检查（试运行） | {check['rows']:,} | {check['seconds']:.0f} | {check['rate']:,.0f} | "
                    f"**{check['peak_mb']:.0f}**（{check['base_mb']:.0f}） | < {BARS['memory_mb']} MB | "
                    f"{mark(check['peak_mb'] < BARS['memory_mb'])} |"
                )
            if commit := big.get(f"commit_{database}"):
                lines.append(
                    f"| {name} | 导入（一个事务） | {commit['rows']:,} | {commit['seconds']:.0f} | {commit['rate']:,.0f} | "
                    f"**{commit['peak_mb']:.0f}**（{commit['base_mb']:.0f}） | < {BARS['memory_mb']} MB | "
                    f"{mark(commit['peak_mb'] < BARS['memory_mb'])} |"
                )
            if export := big.get(f"export_{database}"):
                lines.append(
                    f"| {name} | 导出 | {export['rows']:,} | {export['seconds']:.0f} | {export['rate']:,.0f} | "
                    f"**{export['peak_mb']:.0f}**（{export['base_mb']:.0f}） | < {BARS['memory_mb']} MB | "
                    f"{mark(export['peak_mb'] < BARS['memory_mb'])} |"
                )
        lines.append("")
    if results.get("notes"):
        lines += [*results["notes"], ""]
    lines.append(MARK_END)
    return "\n".join(lines)


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


def machine() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def versions() -> dict:
    import sqlite3

    import psycopg

    found = {"sqlite_version": sqlite3.sqlite_version}
    try:
        admin = urlunsplit(urlsplit(database_url())._replace(path="/postgres"))
        with psycopg.connect(admin) as connection:
            found["pg_version"] = connection.execute("SHOW server_version").fetchone()[0].split()[0]
    except psycopg.Error:
        pass
    return found


def show(label: str, result: dict) -> None:
    rate = f"，{result['rate']:,.0f} 行/秒" if "rate" in result else ""
    peak = (
        f"，峰值 {result['peak_mb']:.0f} MB（开始前 {result['base_mb']:.0f} MB）"
        if "peak_mb" in result
        else ""
    )
    print(f"{label}：{result.get('rows', 0):,} 行，{result['seconds']:.1f} s{rate}{peak}", flush=True)
    if "writer_seconds" in result:
        print(
            f"  其中只写文件（rust_xlsxwriter）：{result['writer_seconds']:.1f} s，{result['writer_rate']:,.0f} 行/秒",
            flush=True,
        )
    if "floor_seconds" in result:
        print(f"  底线 {result['floor_method']}：{result['floor_seconds']:.2f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench excel", description="居民 Excel 导入导出基准")
    parser.add_argument("--rows", type=int, default=100_000, help="导入导出的行数（默认 100000）")
    parser.add_argument(
        "--big-rows", type=int, default=1_000_000, help="内存测量用大文件的行数（默认 1000000）"
    )
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--no-big", action="store_true", help="不做大文件的内存测量")
    parser.add_argument("--no-big-export", action="store_true", help="不做大批量导出的内存测量")
    parser.add_argument(
        "--no-big-commit", action="store_true", help="PostgreSQL 上不真正导入大文件（改为直接写入后导出）"
    )
    parser.add_argument(
        "--profile", action="store_true", help="另外在 cProfile 下运行检查和导入，打印耗时最多的函数"
    )
    parser.add_argument("--keep", action="store_true", help="保留临时目录（输入文件、SQLite 数据库）")
    parser.add_argument("--no-doc", action="store_true", help="不写入 docs/performance.md")
    parser.add_argument("--only", action="append", help=argparse.SUPPRESS)  # `python -m bench --only ...`
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--database", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        return run_in_process(args.phase, json.loads(args.options))

    args.databases = [name for name in DATABASES if name in args.databases]
    args.command = "python -m bench excel" + (" " + " ".join(argv) if argv else "")
    workdir = Path(tempfile.mkdtemp(prefix="shequ-bench-excel-"))
    print(f"临时目录：{workdir}", flush=True)
    write_key_file(workdir / "personal_data.key")
    small = workdir / f"residents-{args.rows}.xlsx"
    results: dict = {"machine": machine(), **versions(), "notes": []}
    profiles = []
    try:
        for database in args.databases:
            print(f"\n== {database} ==", flush=True)
            if database == "postgres":
                recreate_database(database_url())
                print(f"数据库：{database_url()}（已删除并重建）", flush=True)
            setup = run_phase("setup", database, workdir)
            print(
                f"迁移并载入演示数据：{setup['seconds']:.0f} s，居民 {setup['residents']:,}，"
                f"江宁路街道楼组 {setup['groups']}",
                flush=True,
            )
            if not small.exists():
                made = run_phase(
                    "generate",
                    database,
                    workdir,
                    rows=args.rows,
                    path=str(small),
                    start=SMALL_START.isoformat(),
                    note=NOTE,
                    seed=1,
                )
                print(
                    f"生成 {small.name}：{made['bytes'] / 2**20:.1f} MB，{made['seconds']:.0f} s", flush=True
                )
                results["small_mb"] = made["bytes"] / 2**20
            found = results[database] = {}
            found["check"] = run_phase("check", database, workdir, path=str(small))
            results["calamine_mb"] = found["check"]["calamine_max_bytes"] / 2**20
            show("检查", found["check"])
            found["floor"] = run_phase("floor", database, workdir, path=str(small), note=NOTE)
            show(f"底线 {found['floor']['method']}", found["floor"])
            found["commit"] = run_phase("commit", database, workdir, path=str(small))
            show("导入", found["commit"])
            found["export"] = run_phase("export", database, workdir, note=NOTE, floor=True)
            show("导出", found["export"])
            if args.profile:
                for phase in ("check", "commit"):
                    # The commit's rows exist now: profile a second, same-sized file of other people.
                    other = workdir / f"profile-{database}.xlsx"
                    if not other.exists():
                        run_phase(
                            "generate",
                            database,
                            workdir,
                            rows=args.rows,
                            path=str(other),
                            start=datetime.date(1950, 1, 1).isoformat(),
                            note=NOTE + "（剖析）",
                            seed=3,
                        )
                    stats = workdir / f"{phase}-{database}.prof"
                    run_phase(phase, database, workdir, path=str(other), profile=str(stats))
                    profiles.append(print_profile(stats, f"{database} {phase}（cProfile 下）"))
        if not args.no_big:
            big_path = workdir / f"residents-{args.big_rows}.xlsx"
            last = args.databases[-1]
            print(f"\n== {args.big_rows:,} 行 ==", flush=True)
            made = run_phase(
                "generate",
                last,
                workdir,
                rows=args.big_rows,
                path=str(big_path),
                start=BIG_START.isoformat(),
                note=BIG_NOTE,
                seed=2,
            )
            print(
                f"生成 {big_path.name}：{made['bytes'] / 2**20:.0f} MB，{made['seconds']:.0f} s", flush=True
            )
            big = results["big"] = {
                "rows": args.big_rows,
                "mb": made["bytes"] / 2**20,
                "generate_seconds": made["seconds"],
            }
            for database in args.databases:
                big[f"check_{database}"] = run_phase("check", database, workdir, path=str(big_path))
                show(f"{database} 检查", big[f"check_{database}"])
            if not args.no_big_export:
                for database in args.databases:
                    if database == "postgres" and not args.no_big_commit:
                        # The real import of the million rows (its memory is the bar's), which also gives
                        # the export its rows.
                        big["commit_postgres"] = run_phase("commit", database, workdir, path=str(big_path))
                        show(f"{database} 导入", big["commit_postgres"])
                    else:
                        loaded = run_phase("load-big", database, workdir, path=str(big_path))
                        print(
                            f"{database} 直接写入 {loaded['rows']:,} 名居民：{loaded['seconds']:.0f} s",
                            flush=True,
                        )
                    big[f"export_{database}"] = run_phase("export", database, workdir, note=BIG_NOTE)
                    show(f"{database} 导出", big[f"export_{database}"])
    finally:
        if args.keep:
            print(f"保留临时目录 {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"command": args.command, "rows": args.rows, **results}, ensure_ascii=False)
    )
    print(f"各项数字（JSON）：{RESULTS.relative_to(ROOT)}", flush=True)
    section = render(results, args)
    print()
    print(section.replace(MARK_START, "").replace(MARK_END, "").strip())
    if not args.no_doc:
        write_doc(section)
        print(f"\n已写入 {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
