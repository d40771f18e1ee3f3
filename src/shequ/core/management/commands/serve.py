"""`shequ serve`: the web server (gunicorn) and a huey consumer together; Ctrl-C stops both."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动 Web 服务（gunicorn）和后台任务进程（huey），Ctrl-C 同时停止。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--workers", type=int, default=int(os.environ.get("SHEQU_WEB_WORKERS", "2")))
        parser.add_argument("--no-jobs", action="store_true", help="不启动后台任务进程")

    def handle(self, *args, host, port, workers, no_jobs, **options):
        port = port or int(os.environ.get("PORT", "8000"))
        if not settings.EMBEDDED and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shequ.settings"}
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "shequ.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            env=env,
        )
        processes = [web]
        if not no_jobs:
            processes.append(subprocess.Popen([sys.executable, "-m", "shequ", "run_huey"], env=env))
        self.stdout.write(self.style.SUCCESS(f"社区治理平台已启动：http://{host}:{port}/  （Ctrl-C 停止）"))
        try:
            while all(process.poll() is None for process in processes):
                try:
                    processes[0].wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stdout.write("已停止。")
