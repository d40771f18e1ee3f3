"""`shequ import REGISTER FILE --user USERNAME [--commit]`: the Excel import from the command line.

A dry run by default: it checks the file and prints every problem (row, column, message). With --commit
a file that passes the check is written, all rows or none, as the user (their scope, their name in the
audit trail). The check and the commit show their progress (rows, rate, time left) as they go. The
module is named after the command; Django loads it with importlib, so the keyword `import` is no
obstacle."""

from contextlib import ExitStack

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from shequ.core import excel
from shequ.core.models import ImportStatus
from shequ.core.progress import Progress


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入登记簿：默认只检查并列出问题，加 --commit 才写入（全部写入或全不写入）。"

    def add_arguments(self, parser):
        parser.add_argument("register", help="登记簿：" + "、".join(r.name for r in excel.registers()))
        parser.add_argument("file", help=".xlsx 文件")
        parser.add_argument("--user", required=True, help="以该用户的身份和权限范围导入")
        parser.add_argument("--commit", action="store_true", help="检查通过后写入")

    def handle(self, *args, register, file, user, commit, **options):
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"没有启用的用户“{user}”。")
        progress = Progress(self.stdout)
        try:
            with ExitStack() as stages:
                job = excel.import_file(
                    user=account,
                    register_name=register,
                    path=file,
                    commit=commit,
                    progress=self._reporter(progress, stages, "检查"),
                    write_progress=self._reporter(progress, stages, "导入（再次检查并写入）"),
                )
        except Http404 as error:
            raise CommandError(str(error)) from None
        except (PermissionDenied, ValidationError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError("；".join(messages)) from None
        except OSError as error:
            raise CommandError(f"无法读取文件 {file}：{error.strerror}") from None
        for problem in job.errors:
            where = f"第 {problem['row']} 行" if problem["row"] else "文件"
            column = f"［{problem['column']}］" if problem["column"] else ""
            self.stdout.write(f"{where}{column}：{problem['message']}")
        if job.error_count > len(job.errors):
            self.stdout.write(f"……另有 {job.error_count - len(job.errors)} 个问题未列出。")
        self.stdout.write(f"任务 {job.pk}：{job.get_status_display()}。{job.message}")
        if job.status in (ImportStatus.INVALID, ImportStatus.FAILED):
            raise CommandError(f"导入未通过检查，没有写入任何数据（{job.error_count} 个问题）。")
        if job.status == ImportStatus.DONE:
            self.stdout.write(f"审计记录的请求编号：{job.audit_request_id}")
        elif not commit:
            self.stdout.write("这是检查（未写入）。确认无误后加 --commit 再运行一次以写入。")

    @staticmethod
    def _reporter(progress: Progress, stages: ExitStack, name: str):
        """A callback for the import's batches that shows one stage: opened at the first batch (when
        the number of rows is estimated), closed with the other stages when the import returns."""
        opened = []

        def report(outcome, estimate):
            if not opened:
                opened.append(stages.enter_context(progress.stage(name, total=estimate)))
            opened[0].set(outcome.rows_checked)

        return report
