"""Long work shows what it is doing: the terminal reporter (core/progress.py), the commands that use it,
and the rate and time left of an import job's page."""

import datetime
import io
import re

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from shequ.core import excel
from shequ.core.models import ImportJob, ImportStatus
from shequ.core.progress import Progress
from shequ.core.tests.test_excel import one_estate


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self):
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_plain_line_every_few_seconds_with_rows_rate_and_time_left():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock, interval=5)
    with progress.stage("载入案件", total=10_000, unit="件") as stage:
        for _second in range(20):
            clock.now += 1
            stage.update(500)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "载入案件：开始（共 10,000 件）"
    # One line every five seconds (not one per update), then the summary.
    assert lines[1].startswith("载入案件：2,500/10,000 件（25%），500 件/秒，已用 00:05，剩余约 00:1")
    assert [line.split("，")[0] for line in lines[1:4]] == [
        "载入案件：2,500/10,000 件（25%）",
        "载入案件：5,000/10,000 件（50%）",
        "载入案件：7,500/10,000 件（75%）",
    ]
    assert lines[4] == "载入案件：完成 10,000 件，用时 00:20，平均 500 件/秒"
    assert len(lines) == 5 and "\r" not in stream.getvalue()


def test_work_of_unknown_size_shows_rows_and_rate_without_time_left():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock, interval=5)
    with progress.stage("户与户成员", unit="条") as stage:
        for _step in range(4):
            clock.now += 3
            stage.update(300)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "户与户成员：开始",
        "户与户成员：600 条，100 条/秒，已用 00:06",
        "户与户成员：1,200 条，100 条/秒，已用 00:12",
        "户与户成员：完成 1,200 条，用时 00:12，平均 100 条/秒",
    ]


def test_a_terminal_gets_one_line_updated_in_place():
    stream = io.StringIO()
    progress = Progress(stream, tty=True)
    with progress.stage("导出小区", total=3) as stage:
        for _row in range(3):
            stage.update()
    progress.note("已导出。")
    text = stream.getvalue()
    assert text.count("\r") >= 2 and "导出小区" in text and "3/3 行" in text
    assert text.endswith("已导出。\n") and text.count("\n") == 2  # the bar's final line, and the note


def test_silent_progress_writes_nothing_and_still_counts(capsys):
    progress = Progress.silent()
    with progress.stage("居民", total=10) as stage:
        stage.update(4)
        stage.set(7)
        assert stage.done == 7
    progress.note("不显示")
    assert capsys.readouterr() == ("", "")


def test_the_import_and_export_commands_show_their_progress(world, tmp_path):
    path = tmp_path / "小区.xlsx"
    path.write_bytes(one_estate("进度花园").getvalue())
    out = io.StringIO()
    call_command("import", "estates", str(path), user="jiangning", commit=True, stdout=out)
    lines = out.getvalue().splitlines()
    assert "检查：开始（共 1 行）" in lines and "检查：完成 1 行" in "\n".join(lines)
    assert any(line.startswith("导入（再次检查并写入）：完成 1 行") for line in lines)

    out = io.StringIO()
    call_command("export", "estates", str(tmp_path / "out.xlsx"), user="admin", stdout=out)
    text = out.getvalue()
    assert "导出小区：开始（共 3 行）" in text and "导出小区：完成 3 行" in text and "已导出 3 条小区" in text


def test_a_running_import_job_shows_its_rate_and_the_time_left(world, client):
    client.force_login(world.user("jiangning"))
    client.post(reverse("excel-import", args=["estates"]), {"file": one_estate()})
    job = ImportJob.objects.get()
    started = timezone.now() - datetime.timedelta(seconds=10)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING, started_at=started)
    HUEY.put(excel.progress_key(job.pk), {"rows_checked": 1500, "rows_written": 0, "rows_total": 3000})
    try:
        job.refresh_from_db()
        progress = excel.read_progress(job)
        partial = client.get(reverse("excel-job", args=[job.pk]), headers={"HX-Request": "true"})
    finally:
        HUEY.delete(excel.progress_key(job.pk))
    # 1,500 rows in about 10 s: about 150 rows a second, and 1,500 rows (about 10 s) to go.
    assert 120 <= progress["rate"] <= 150 and 10 <= progress["seconds_left"] <= 13
    text = partial.content.decode()
    assert "已检查 1500 行" in text and re.search(r"每秒 1[2-5]\d 行，剩余约 1\d 秒", text)
    # A finished job has no rate to show.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKED)
    job.refresh_from_db()
    assert "rate" not in excel.read_progress(job)
