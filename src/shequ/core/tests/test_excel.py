"""The Excel engine (core.excel): cells, templates, bad files, the streaming reader, jobs and their
pages, the API and the commands. The registry's registers serve as examples; the per-register import
behaviour is tested in registry/tests/test_import.py."""

import datetime
import decimal
import io
import os
import tracemalloc
import zipfile
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from shequ.core import excel
from shequ.core.models import AuditEntry, ImportJob, ImportStatus
from shequ.core.tasks import purge_import_files
from shequ.org.excel import DepartmentRegister
from shequ.org.models import Unit
from shequ.registry.models import Estate

ESTATE_HEADER = ["居民区", "小区名称", "房屋类型", "地址", "建成年份", "户数", "建筑面积（平方米）"]


def declare_dimension(sheet, *, rows: int, columns: int) -> None:
    """openpyxl's write-only sheets do not say how big they are (its read-only reader then pre-scans the
    whole sheet for the size): declare it, as Excel's own files and the platform's exports do."""
    sheet.calculate_dimension = lambda: f"A1:{get_column_letter(max(columns, 1))}{max(rows, 1)}"


def xlsx(header, rows, *, name="import.xlsx", declared=False) -> io.BytesIO:
    """A workbook written the way big files are written (write-only), as an uploadable buffer; with
    `declared`, it states its size as Excel's files and our exports do."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    if declared:
        declare_dimension(sheet, rows=len(rows) + 1, columns=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def sheet_rows(response_or_bytes, index=0) -> list[tuple]:
    data = response_or_bytes if isinstance(response_or_bytes, bytes) else content(response_or_bytes)
    return list(load_workbook(io.BytesIO(data)).worksheets[index].iter_rows(values_only=True))


def upload(client, register, buffer):
    return client.post(reverse("excel-import", args=[register]), {"file": buffer})


# Cells --------------------------------------------------------------------------------------------


def test_cells_become_values_the_way_people_write_them():
    assert excel.cell_text(310106006002) == "310106006002"
    assert excel.cell_text(3.10106006002e11) == "310106006002"  # a code Excel turned into a number
    assert excel.cell_text("\u3000新安 ") == "新安"
    assert excel.parse_integer(300.0) == 300 and excel.parse_integer("1,200") == 1200
    assert excel.parse_decimal(1234.5) == decimal.Decimal("1234.5")
    assert excel.parse_boolean("是") is True and excel.parse_boolean("否") is False
    assert excel.parse_date("2021年6月1日") == datetime.date(2021, 6, 1)
    assert excel.parse_date(datetime.datetime(2021, 6, 1)) == datetime.date(2021, 6, 1)
    for parse, value, message in [
        (excel.parse_integer, "三百", "不是整数"),
        (excel.parse_decimal, "abc", "不是数字"),
        (excel.parse_boolean, "也许", "“是”或“否”"),
        (excel.parse_date, "2021-02-30", "不是日期"),
    ]:
        with pytest.raises(excel.CellError, match=message):
            parse(value)


# Templates ----------------------------------------------------------------------------------------


def test_the_template_has_the_header_an_example_row_drop_downs_and_a_说明_sheet(world, client):
    client.force_login(world.user("jiangning"))
    response = client.get(reverse("excel-template", args=["estates"]))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert "filename*=utf-8''" in response["Content-Disposition"]  # 小区导入模板.xlsx, UTF-8 encoded
    workbook = load_workbook(io.BytesIO(content(response)))
    assert workbook.sheetnames[:2] == ["小区", "说明"]
    sheet = workbook["小区"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ESTATE_HEADER
    assert rows[1][:3] == ("新安居委会", "示例花园", "普通商品房")  # the example, with the choice's label
    validations = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert "C2:C1048576" in validations  # 房屋类型: a drop-down of the Chinese labels
    options = [row[2] for row in workbook["选项"].iter_rows(values_only=True) if row[2]]
    assert "普通商品房" in options and "commercial" not in options
    notes = [row for row in workbook["说明"].iter_rows(values_only=True)]
    described = {row[0]: row for row in notes if row[0] in ESTATE_HEADER}
    assert described["小区名称"][1] == "是" and described["地址"][1] == "否"
    assert "普通商品房" in described["房屋类型"][2]
    assert "12位" in described["居民区"][2]
    assert any("居民区 + 小区名称" in (row[0] or "") for row in notes)  # how rows find existing records


def test_a_filled_in_template_with_the_example_row_left_in_place_imports_only_the_data(world, client):
    client.force_login(world.user("jiangning"))
    workbook = load_workbook(io.BytesIO(content(client.get(reverse("excel-template", args=["estates"])))))
    workbook.worksheets[0].append(["新安居委会", "模板花园", "售后公房", None, 1990, 80, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "小区.xlsx"
    response = upload(client, "estates", buffer)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportStatus.CHECKED, job.errors
    assert job.rows_total == 1 and job.rows_created == 1
    assert not Estate.objects.filter(name="示例花园").exists()


# Bad files ----------------------------------------------------------------------------------------


def named(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"name,unit\n", "estates.csv", "请上传 Excel 工作簿（.xlsx）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "estates.xls", "旧版 Excel（.xls）"),
        (b"PK\x03\x04 not really a zip", "estates.xlsx", "文件已损坏"),
        (b"", "estates.xlsx", "文件是空的"),
    ],
)
def test_a_file_that_is_not_an_xlsx_workbook_gets_a_chinese_message(world, client, data, name, message):
    client.force_login(world.user("jiangning"))
    response = upload(client, "estates", named(data, name))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused(world, client):
    client.force_login(world.user("jiangning"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    response = upload(client, "estates", named(buffer.getvalue(), "report.xlsx"))
    assert "这不是 Excel 工作簿" in response.content.decode()


def test_a_workbook_that_breaks_off_midway_is_a_problem_of_the_file(world, client):
    client.force_login(world.user("jiangning"))
    rows = [["新安居委会", f"小区{i}", "普通商品房", None, None, 1, None] for i in range(100)]
    intact, damaged = xlsx(ESTATE_HEADER, rows, declared=True), io.BytesIO()
    with zipfile.ZipFile(intact) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[: len(data) // 2] if info.filename.endswith("sheet1.xml") else data)
    response = upload(client, "estates", named(damaged.getvalue(), "damaged.xlsx"))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    assert [e["message"] for e in job.errors] == [
        "文件已损坏，无法读完：请在 Excel 中打开并重新保存后再上传。"
    ]


# Hostile files (issue 10, B1): made here, each about 2 KB (or a zip of a few KB), never committed.


def rewritten(buffer: io.BytesIO, change) -> io.BytesIO:
    """The workbook with each part passed through change(name, data) -> data."""
    result = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info)))
    result.seek(0)
    result.name = "import.xlsx"
    return result


def far_cell_workbook() -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ESTATE_HEADER)
    sheet.append(["新安居委会", "远方小区", "普通商品房", None, None, 1, None])
    sheet["XFD1048576"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "far.xlsx"
    return buffer


def job_messages() -> list[str]:
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    return [error["message"] for error in job.errors]


def test_a_cell_at_the_last_column_and_row_fails_its_own_job_and_nothing_else(world, client):
    client.force_login(world.user("jiangning"))
    buffer = far_cell_workbook()
    assert len(buffer.getvalue()) < 8 * 1024
    assert upload(client, "estates", buffer).status_code == 302
    assert job_messages() == [
        "工作表用到了第 16,384 列（XFD 列），超过导入的上限 1,000 列：请删去多余的列或远处的单元格后再上传。"
    ]
    assert not Estate.objects.filter(name="远方小区").exists()
    assert client.get(reverse("home")).status_code == 200  # the platform keeps answering


def test_a_shared_string_count_the_file_cannot_hold_is_refused(world, client):
    client.force_login(world.user("jiangning"))
    rows = [["新安居委会", f"小区{i}", "普通商品房", None, None, 1, None] for i in range(3)]

    sst = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" count="2000000000" uniqueCount="2000000000"><si><t>x</t></si></sst>'
    )
    buffer = rewritten(xlsx(ESTATE_HEADER, rows), lambda name, data: data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", sst)
    buffer.seek(0)
    assert b"2000000000" in zipfile.ZipFile(buffer).read("xl/sharedStrings.xml")
    buffer.seek(0)
    upload(client, "estates", buffer)
    assert job_messages() == [
        "文件声明的共享字符串数（2,000,000,000）超过了文件实际能容纳的数量，文件已损坏或被改动过："
        "请在 Excel 中打开并另存为 .xlsx 后再上传。"
    ]


def test_a_zip_bomb_is_refused_at_the_upload(world, client):
    client.force_login(world.user("jiangning"))
    rows = [["新安居委会", "小区", "普通商品房", None, None, 1, None]]

    def pad(name, data):
        # 64 MB of nothing in the sheet's XML: it packs into about 60 KB, a thousand times smaller.
        return (
            data.replace(b"<sheetData>", b"<sheetData>" + b" " * (64 * 1024**2)) if "sheet1" in name else data
        )

    buffer = rewritten(xlsx(ESTATE_HEADER, rows), pad)
    assert len(buffer.getvalue()) < 1024**2
    response = upload(client, "estates", buffer)
    assert response.status_code == 200 and "压缩比异常" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_extent_of_a_sheet_is_read_from_its_cells_not_its_dimension(tmp_path):
    from shequ.core.workbook_limits import Extent, check_workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ESTATE_HEADER)
    sheet["ALL30000"] = "far but allowed"  # column 1,000, row 30,000: 30 million cells as a rectangle
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    assert check_workbook(path) == Extent(30000, 1000)
    assert check_workbook(path).cells > excel.DENSE_CELLS  # so open_rows streams it with openpyxl
    with excel.open_rows(path) as (_declared, rows):
        first = next(rows)
        assert [cell for cell in first if cell][:2] == ESTATE_HEADER[:2]


def test_a_file_over_the_size_cap_is_refused(world, client, settings):
    settings.IMPORT_MAX_BYTES = 8 * 1024
    client.force_login(world.user("jiangning"))
    rows = [["新安居委会", f"小区{i:06d}", "普通商品房", f"江宁路{i}弄", 2001, i, 1.5] for i in range(2000)]
    buffer = xlsx(ESTATE_HEADER, rows)
    assert len(buffer.getvalue()) > 8 * 1024
    response = upload(client, "estates", buffer)
    assert response.status_code == 200
    assert "文件超过 8 KB 的上限" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_wrong_headers_are_reported_on_the_header_row(world, client):
    client.force_login(world.user("jiangning"))
    header = ["居民区", "小区名字", "房屋类型", "户数", "户数"]
    upload(client, "estates", xlsx(header, [["新安居委会", "甲", "普通商品房", 1, 1]]))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    messages = {(problem["row"], problem["message"]) for problem in job.errors}
    assert (1, "未知的列“小区名字”。可用的列：" + "、".join(ESTATE_HEADER) + "。") in messages
    assert (1, "列“户数”出现了两次。") in messages
    assert (1, "缺少必填列“小区名称”。") in messages


def test_a_file_with_a_header_and_no_rows_is_refused(world, client):
    client.force_login(world.user("jiangning"))
    upload(client, "estates", xlsx(ESTATE_HEADER, [[None] * 7, []]))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    assert job.errors == [{"row": None, "column": "", "message": "文件中没有数据行：请从第二行起填写。"}]


def test_an_empty_sheet_is_refused(world, client):
    client.force_login(world.user("jiangning"))
    upload(client, "estates", xlsx([], []))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID and "文件是空的" in job.errors[0]["message"]


# Streaming ----------------------------------------------------------------------------------------


def test_the_reader_streams_the_file_instead_of_loading_it(tmp_path, monkeypatch):
    """Files above CALAMINE_MAX_BYTES are streamed: openpyxl's read-only mode parses the sheet as it is
    iterated. Reading a 50,000-row file (made to count as big here) must need a fraction of the sheet's
    unpacked size; loading it as cells takes about nine times that size. What remains is openpyxl's: it
    keeps one emptied XML element per row read (under 100 bytes)."""
    monkeypatch.setattr(excel, "CALAMINE_MAX_BYTES", 0)
    path = tmp_path / "big.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    declare_dimension(sheet, rows=50001, columns=4)  # as exports do, and Excel's own files
    sheet.append(ESTATE_HEADER[:4])
    for i in range(50000):
        sheet.append(
            [f"居民区{i % 300:03d}", f"小区{i:05d}", "普通商品房", f"上海市静安区江宁路{i}弄{i % 40}号"]
        )
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    tracemalloc.start()
    try:
        with excel.open_rows(path) as (declared, rows):
            count = sum(1 for _row in rows)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50001 and declared == 50001
    assert unpacked > 10_000_000
    assert peak < unpacked / 3, f"peak {peak} bytes for {unpacked} bytes unpacked"
    assert peak < 100 * count + 1_000_000, f"peak {peak} bytes: more than 100 bytes a row"


def test_small_files_are_read_with_calamine_and_give_the_same_rows(tmp_path, monkeypatch):
    rows = [["新安居委会", f"小区{i}", "普通商品房", None, 2001, 1, 12.5] for i in range(20)]
    buffer = xlsx(ESTATE_HEADER, rows)
    path = tmp_path / "small.xlsx"
    path.write_bytes(buffer.getvalue())
    with mock.patch("shequ.core.excel.load_workbook", wraps=excel.load_workbook) as spy:
        with excel.open_rows(path) as (_declared, fast):
            fast_rows = list(fast)
    assert not spy.called  # calamine, not openpyxl
    monkeypatch.setattr(excel, "CALAMINE_MAX_BYTES", 0)
    with excel.open_rows(path) as (_declared, streamed):
        streamed_rows = list(streamed)
    assert len(fast_rows) == len(streamed_rows) == 21
    # Calamine gives numbers as floats; the column parsers read 2001.0 and 2001 alike.
    assert [tuple(v for v in row if v is not None) for row in fast_rows[1:]] == [
        tuple(float(v) if isinstance(v, int) else v for v in row if v is not None)
        for row in streamed_rows[1:]
    ]


def test_big_imports_open_the_workbook_in_read_only_mode(world, client, monkeypatch):
    monkeypatch.setattr(excel, "CALAMINE_MAX_BYTES", 0)
    client.force_login(world.user("jiangning"))
    with mock.patch("shequ.core.excel.load_workbook", wraps=excel.load_workbook) as spy:
        upload(
            client, "estates", xlsx(ESTATE_HEADER, [["新安居委会", "甲", "普通商品房", None, None, 1, None]])
        )
    assert spy.call_args.kwargs == {"read_only": True, "data_only": True}


# Jobs and their pages -----------------------------------------------------------------------------


def one_estate(name="页面花园"):
    return xlsx(ESTATE_HEADER, [["新安居委会", name, "普通商品房", "江宁路2弄", 2010, 120, 5000]])


def test_an_import_is_checked_then_written_when_its_owner_confirms(world, client):
    client.force_login(world.user("jiangning"))
    response = upload(client, "estates", one_estate())
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("excel-job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "检查通过" in page and "确认导入" in page and "将新增" in page
    assert not Estate.objects.filter(name="页面花园").exists()  # a check writes nothing

    response = client.post(reverse("excel-job-commit", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.rows_written == 1
    estate = Estate.objects.get(name="页面花园")
    entry = AuditEntry.objects.get(request_id=job.audit_request_id)
    assert entry.action == "import" and entry.object_id == str(estate.pk) and entry.actor_name == "jiangning"
    assert entry.unit_path == world.jn.area.path and "第 2 行" in entry.reason
    assert "确认导入" not in client.get(response["Location"]).content.decode()

    # A second confirmation (a double click, a replayed request) writes nothing more.
    response = client.post(reverse("excel-job-commit", args=[job.pk]), follow=True)
    assert "只有检查通过的导入才能确认" in response.content.decode()
    assert Estate.objects.filter(name="页面花园").count() == 1


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_ends(world, client):
    client.force_login(world.user("jiangning"))
    upload(client, "estates", one_estate())
    job = ImportJob.objects.get()
    url = reverse("excel-job", args=[job.pk])
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING)
    HUEY.put(excel.progress_key(job.pk), {"rows_checked": 1500, "rows_written": 0, "rows_total": 3000})
    try:
        partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    finally:
        HUEY.delete(excel.progress_key(job.pk))
    assert 'hx-trigger="every 1s"' in partial and "已检查 1500 行" in partial and 'max="3000"' in partial
    assert "<html" not in partial
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKED)
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in partial and "确认导入" in partial


def test_progress_is_written_to_huey_after_every_batch(world, client, monkeypatch):
    """While a job runs, its counts go to huey's key-value storage (visible outside the commit's long
    transaction); the job row gets them when the run ends."""
    monkeypatch.setattr(excel, "BATCH_SIZE", 500)
    client.force_login(world.user("jiangning"))
    rows = [["新安居委会", f"进度{i:04d}", "普通商品房", None, None, 1, None] for i in range(1200)]
    with mock.patch.object(HUEY, "put", wraps=HUEY.put) as put:
        upload(client, "estates", xlsx(ESTATE_HEADER, rows, declared=True))
    job = ImportJob.objects.get()
    assert [call.args for call in put.call_args_list] == [
        (excel.progress_key(job.pk), {"rows_checked": checked, "rows_written": 0, "rows_total": 1200})
        for checked in (500, 1000, 1200)
    ]
    assert HUEY.get(excel.progress_key(job.pk), peek=True) is None  # cleared when the run ended
    assert (job.rows_checked, job.rows_total) == (1200, 1200)


def test_the_error_report_lists_row_column_and_message_and_downloads_as_xlsx(world, client):
    client.force_login(world.user("jiangning"))
    upload(
        client,
        "estates",
        xlsx(
            ESTATE_HEADER,
            [
                ["新安居委会", "甲", "普通商品房", None, "一九九零", 1, None],
                ["无此居委会", "乙", "别墅", None, None, 1, None],
            ],
        ),
    )
    job = ImportJob.objects.get()
    page = client.get(reverse("excel-job", args=[job.pk])).content.decode()
    assert "共 3 个问题" in page and "确认导入" not in page
    report = sheet_rows(client.get(reverse("excel-job-errors", args=[job.pk])))
    assert (2, "建成年份", "“一九九零”不是整数。") in report
    assert (3, "居民区", "找不到居民区“无此居委会”。") in report
    assert any(row[:2] == (3, "房屋类型") and "不是允许的值" in row[2] for row in report)


def test_only_the_owner_and_readers_of_the_audit_trail_see_a_job(world, client):
    client.force_login(world.user("jiangning"))
    upload(client, "estates", one_estate())
    job = ImportJob.objects.get()
    for username, status in [("jiangning_admin", 404), ("shimen", 404), ("admin", 200), ("auditor", 200)]:
        client.force_login(world.user(username))
        assert client.get(reverse("excel-job", args=[job.pk])).status_code == status, username
    # Seeing is not confirming: only the owner may start the write.
    client.force_login(world.user("admin"))
    assert client.post(reverse("excel-job-commit", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED


def test_the_list_page_offers_import_and_an_export_that_keeps_the_filters(world, client):
    client.force_login(world.user("jiangning"))
    page = client.get(reverse("estate-list"), {"housing_type": "lane", "page": "1"}).content.decode()
    assert reverse("excel-import", args=["estates"]) in page
    assert f'{reverse("excel-export", args=["estates"])}?housing_type=lane"' in page
    # Filtering through htmx replaces the list body; the export link is swapped out of band with it.
    partial = client.get(
        reverse("estate-list"), {"q": "新安"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'id="excel-export"' in partial and 'hx-swap-oob="true"' in partial and "?q=" in partial
    client.force_login(world.user("admin"))
    page = client.get(reverse("department-list")).content.decode()
    assert reverse("excel-import", args=["departments"]) in page
    # A role without 'add' sees the export only.
    client.force_login(world.user("fangguan"))
    page = client.get(reverse("estate-list")).content.decode()
    assert reverse("excel-export", args=["estates"]) in page
    assert reverse("excel-import", args=["estates"]) not in page


def test_an_invalid_export_filter_is_a_message_not_everything(world, client):
    client.force_login(world.user("jiangning"))
    response = client.get(reverse("excel-export", args=["estates"]), {"housing_type": "palace"})
    assert response.status_code == 400 and "筛选条件无效" in response.content.decode()


def test_the_excel_page_lists_registers_and_jobs(world, client):
    client.force_login(world.user("admin"))
    page = client.get(reverse("excel-index")).content.decode()
    for title in ["居民区", "区职能部门", "小区", "楼栋", "楼组", "网格"]:
        assert title in page


# Masked columns (the residents' register will have them) ------------------------------------------


def mask(value):
    return f"{value[:3]}****{value[-2:]}" if value else ""


class MaskedDepartments(DepartmentRegister):
    """Departments with their phone declared sensitive, as a resident's phone will be."""

    name = "test-masked-departments"
    columns = [
        *[column for column in DepartmentRegister.columns if column.name != "phone"],
        excel.Column("phone", "联系电话", sensitive=True, mask=mask),
    ]


def test_sensitive_columns_are_exported_masked_and_a_masked_value_sent_back_changes_nothing(world):
    register_ = MaskedDepartments()
    admin = world.user("admin")
    department = world.department
    department.phone = "02162001234"
    department.save()
    buffer = io.BytesIO()
    excel.write_export(
        register_,
        user=admin,
        queryset=register_.export_queryset(admin).filter(pk=department.pk),
        fileobj=buffer,
    )
    rows = sheet_rows(buffer.getvalue())
    assert rows[1][3] == "021****34"
    buffer.seek(0)
    outcome = excel.ImportRun(register_, user=admin, source=buffer, write=True).run()
    assert outcome.ok and outcome.rows_unchanged == 1
    department.refresh_from_db()
    assert department.phone == "02162001234"
    # A new record cannot be made from a masked value.
    new = xlsx(["部门编码", "部门名称", "联系电话"], [["310106D97", "区新局", "021****34"]])
    outcome = excel.ImportRun(register_, user=admin, source=new, write=False).run()
    assert [p.message for p in outcome.problems] == ["请填写完整的值，不能用打码后的值。"]


# API ----------------------------------------------------------------------------------------------


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


def test_the_api_uploads_checks_commits_and_reports(world, api):
    api.force_authenticate(world.user("jiangning"))
    response = api.post(
        reverse("api:import-list"),
        {"register": "estates", "file": one_estate("接口花园")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "checked" and body["rows_created"] == 1 and body["errors"] == []
    job_url = reverse("api:import-detail", args=[body["id"]])
    assert api.get(job_url).json()["status_display"] == "检查通过"
    response = api.post(reverse("api:import-commit", args=[body["id"]]))
    assert response.status_code == 202 and response.json()["status"] == "done"
    assert Estate.objects.filter(name="接口花园").exists()
    assert api.post(reverse("api:import-commit", args=[body["id"]])).status_code == 409
    assert [job["id"] for job in api.get(reverse("api:import-list")).json()["results"]] == [body["id"]]


def test_the_api_refuses_bad_input_in_chinese(world, api):
    api.force_authenticate(world.user("jiangning"))
    response = api.post(
        reverse("api:import-list"),
        {"register": "estates", "file": named(b"hello", "a.txt")},
        format="multipart",
    )
    assert response.status_code == 400 and "请上传 Excel 工作簿" in response.json()["file"][0]
    response = api.post(
        reverse("api:import-list"), {"register": "people", "file": one_estate()}, format="multipart"
    )
    assert response.status_code == 400 and "register" in response.json()
    api.force_authenticate(world.user("fangguan"))
    response = api.post(
        reverse("api:import-list"), {"register": "estates", "file": one_estate()}, format="multipart"
    )
    assert response.status_code == 403 and "无权导入小区" in response.json()["detail"]


def test_the_api_exports_with_filters_and_serves_templates(world, api):
    api.force_authenticate(world.user("admin"))
    response = api.get(reverse("api:excel-export", args=["estates"]), {"street": "310106006"})
    assert response.status_code == 200 and response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    names = [row[1] for row in sheet_rows(response)[1:]]
    assert names == [world.jn.estate.name]
    response = api.get(reverse("api:excel-template", args=["buildings"]))
    assert sheet_rows(response)[0][:3] == ("居民区", "小区名称", "楼号")
    assert api.get(reverse("api:excel-export", args=["nothing"])).status_code == 404


# Commands -----------------------------------------------------------------------------------------


def test_the_import_command_checks_by_default_and_writes_with_commit(world, tmp_path, capsys):
    path = tmp_path / "小区.xlsx"
    path.write_bytes(one_estate("命令花园").getvalue())
    call_command("import", "estates", str(path), user="jiangning")
    assert "这是检查（未写入）" in capsys.readouterr().out
    assert not Estate.objects.filter(name="命令花园").exists()
    call_command("import", "estates", str(path), user="jiangning", commit=True)
    out = capsys.readouterr().out
    assert "已完成" in out and "import-" in out
    assert Estate.objects.filter(name="命令花园").count() == 1


def test_the_import_command_prints_each_problem_and_fails(world, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        xlsx(ESTATE_HEADER, [["新安居委会", "甲", "普通商品房", None, 1700, 1, None]]).getvalue()
    )
    with pytest.raises(CommandError, match="没有写入任何数据"):
        call_command("import", "estates", str(path), user="jiangning", commit=True)
    assert "第 2 行［建成年份］：" in capsys.readouterr().out
    with pytest.raises(CommandError, match="无权导入小区"):
        call_command("import", "estates", str(path), user="fangguan")


def test_the_export_command_writes_the_filtered_rows(world, tmp_path, capsys):
    path = tmp_path / "out.xlsx"
    call_command("export", "estates", str(path), user="admin", filter=["street=310106011"])
    rows = sheet_rows(path.read_bytes())
    assert [row[1] for row in rows[1:]] == [world.sm.estate.name]
    assert "已导出 1 条小区" in capsys.readouterr().out


def test_departments_are_imported_under_the_district(world):
    admin = world.user("admin")
    source = xlsx(["部门编码", "部门名称", "办公地址"], [["310106D90", "区测试局", "常德路1号"]])
    assert excel.ImportRun(excel.get_register("departments"), user=admin, source=source, write=True).run().ok
    department = Unit.objects.get(code="310106D90")
    assert department.kind == "department" and department.parent.code == "310106"


def test_old_import_files_are_purged_and_their_jobs_kept(world, client):
    client.force_login(world.user("jiangning"))
    upload(client, "estates", one_estate())
    job = ImportJob.objects.get()
    path = job.file.path
    purge_import_files.call_local()
    job.refresh_from_db()
    assert job.file  # a fresh file stays
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    purge_import_files.call_local()
    job.refresh_from_db()
    assert not job.file and job.status == ImportStatus.CHECKED and job.rows_total == 1
    assert not os.path.exists(path)
