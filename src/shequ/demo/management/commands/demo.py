import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from shequ.core.progress import Progress
from shequ.demo.loader import DEMO_ACCOUNTS, DEMO_PASSWORD, SCALES, load_demo


class Command(BaseCommand):
    help = "载入演示城区（静安区真实街道与居委会 + 合成小区、楼组等），然后启动平台。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=sorted(SCALES),
            default="demo",
            help="demo：快速演示；district：静安区实际规模（基准测试用）",
        )
        parser.add_argument("--no-serve", action="store_true", help="只载入数据，不启动服务")
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args, scale, no_serve, port, **options):
        progress = Progress(self.stdout)
        started = time.monotonic()
        progress.note("准备数据库（迁移）……")
        call_command("migrate", interactive=False, verbosity=0)
        # Each step shows itself: a district-scale load (a million residents, 300,000 cases) takes minutes.
        report = load_demo(scale, progress=progress)
        minutes, seconds = divmod(round(time.monotonic() - started), 60)
        self.stdout.write(
            self.style.SUCCESS(f"演示城区已就绪，用时 {minutes} 分 {seconds} 秒（重复载入不会重复添加）：")
        )
        for line in report.lines():
            self.stdout.write(f"  本次新增 {line}")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.username:<16} {account.display_name}")
        if not no_serve:
            call_command("serve", port=port)
