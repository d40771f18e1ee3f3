"""`shequ serve`: the web server (gunicorn) and a huey consumer together; Ctrl-C or SIGTERM stops both."""

import os
import signal
import subprocess
import sys

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# How long the children get to finish what they are doing before they are killed. gunicorn is given 5 s
# (--graceful-timeout) for requests in progress; the rest is for a huey task that is running.
STOP_TIMEOUT = 10


def _stop(signum, frame):
    # SIGTERM (systemd, docker, kill) takes the same path as Ctrl-C. Python's default would end this
    # process at once and leave gunicorn and the consumer running on their own.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "启动 Web 服务（gunicorn）和后台任务进程（huey），Ctrl-C 或 SIGTERM 同时停止。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--workers", type=int, default=int(os.environ.get("SHEQU_WEB_WORKERS", "2")))
        parser.add_argument("--no-jobs", action="store_true", help="不启动后台任务进程")

    def handle(self, *args, host, port, workers, no_jobs, **options):
        port = port or int(os.environ.get("PORT", "8000"))
        if not settings.EMBEDDED and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(self.job_queue())
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shequ.settings"}
        # Each child runs in its own process group, so that Ctrl-C in a terminal reaches this process only;
        # each child is then stopped once, with the signal that stops it gracefully (below).
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
            process_group=0,
        )
        # gunicorn finishes the requests in progress on SIGTERM; huey finishes running tasks on SIGINT
        # (its SIGTERM abandons them).
        processes = {"gunicorn": (web, signal.SIGTERM)}
        if not no_jobs:
            jobs = subprocess.Popen([sys.executable, "-m", "shequ", "run_huey"], env=env, process_group=0)
            processes["huey"] = (jobs, signal.SIGINT)
        self.stdout.write(self.style.SUCCESS(f"社区治理平台已启动：http://{host}:{port}/  （Ctrl-C 停止）"))
        # Under systemd stdout is a pipe, block-buffered: without this the lines above reach the journal
        # only at exit, after everything the children logged.
        self.stdout.flush()
        signal.signal(signal.SIGTERM, _stop)
        try:
            while all(process.poll() is None for process, _ in processes.values()):
                try:
                    web.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
        except KeyboardInterrupt:
            exited = {}
        else:
            exited = {
                name: process.returncode
                for name, (process, _) in processes.items()
                if process.returncode is not None
            }
        finally:
            # A second Ctrl-C must not cut the shutdown short; the timeout below bounds it instead.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for process, stop_signal in processes.values():
                if process.poll() is None:
                    process.send_signal(stop_signal)
            for process, _ in processes.values():
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if exited:
            # One of the two ended by itself: exit non-zero so that a supervisor (systemd) restarts us.
            died = "，".join(f"{name}（退出码 {code}）" for name, code in exited.items())
            raise CommandError(f"{died} 意外退出，其余进程已停止。")
        self.stdout.write("已停止。")

    def job_queue(self) -> str:
        """Where background jobs go, checked now: with Redis down the consumer would only log errors and
        the pages that use the cache would fail, so the service should not start at all."""
        if not settings.REDIS_URL:
            return f"后台任务队列：SQLite {settings.HUEY['filename']}"
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5)
        options = client.connection_pool.connection_kwargs
        # Host, port and database only: the URL may carry a password.
        where = options.get("path") or f"{options.get('host')}:{options.get('port')}/{options.get('db', 0)}"
        try:
            client.ping()
        except redis.RedisError as error:
            raise CommandError(f"无法连接 Redis（SHEQU_REDIS_URL → {where}）：{error}") from None
        finally:
            client.close()
        return f"后台任务队列与缓存：Redis {where}（已连接）"
