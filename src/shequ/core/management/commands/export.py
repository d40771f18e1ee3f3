"""`shequ export REGISTER FILE --user USERNAME [--filter name=value ...]`: the Excel export from the
command line, with the user's view scope and the list page's filters. Shows its progress as it writes
(rows, rate, time left)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404, QueryDict

from shequ.core import excel
from shequ.core.progress import Progress


class Command(BaseCommand):
    help = "把登记簿导出为 Excel（.xlsx），只含该用户有权查看的记录，可按列表页的筛选条件筛选。"

    def add_arguments(self, parser):
        parser.add_argument("register", help="登记簿：" + "、".join(r.name for r in excel.registers()))
        parser.add_argument("file", help="要写入的 .xlsx 文件")
        parser.add_argument("--user", required=True, help="以该用户的权限范围导出")
        parser.add_argument(
            "--filter",
            dest="filters",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="筛选条件，与列表页网址中的参数相同，如 street=310106006；可重复",
        )

    def handle(self, *args, register, file, user, filters, **options):
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"没有启用的用户“{user}”。")
        params = QueryDict(mutable=True)
        for item in filters:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"筛选条件应写成 NAME=VALUE：{item}")
            params.appendlist(name, value)
        try:
            register_ = excel.get_register(register)
            excel.check_access(register_, account, "view")
            queryset = excel.filter_queryset(register_, account, params)
            export_options = {name: params.get(name, "") for name in register_.export_option_names}
            progress = Progress(self.stdout)
            with (
                open(file, "wb") as handle,
                progress.stage(f"导出{register_.title}", total=queryset.count()) as stage,
            ):
                count = excel.write_export(
                    register_,
                    user=account,
                    queryset=queryset,
                    fileobj=handle,
                    options=export_options,
                    progress=stage.set,
                )
        except Http404 as error:
            raise CommandError(str(error)) from None
        except (PermissionDenied, ValidationError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError("；".join(messages)) from None
        except OSError as error:
            raise CommandError(f"无法写入文件 {file}：{error.strerror}") from None
        self.stdout.write(f"已导出 {count} 条{register_.title}到 {file}。")
