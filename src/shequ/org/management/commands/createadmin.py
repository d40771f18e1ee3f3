import getpass

from django.core.management.base import BaseCommand, CommandError

from shequ.org.choices import UnitKind
from shequ.org.models import Unit, User
from shequ.org.roles import Role
from shequ.org.services import create_user


class Command(BaseCommand):
    help = "创建区系统管理员账号（岗位：区系统管理员，单位：区）。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--display-name", default="区系统管理员")
        parser.add_argument("--password", help="不提供则交互输入；也可用环境变量 SHEQU_ADMIN_PASSWORD")

    def handle(self, *args, username, display_name, password, **options):
        import os

        district = Unit.objects.filter(kind=UnitKind.DISTRICT).first()
        if district is None:
            raise CommandError("单位树为空：请先运行 `shequ demo --no-serve` 或导入区划代码。")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户名“{username}”已存在。")
        password = password or os.environ.get("SHEQU_ADMIN_PASSWORD") or getpass.getpass("密码：")
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from error
        create_user(
            actor=None,
            username=username,
            password=password,
            display_name=display_name,
            memberships=[(Role.DISTRICT_ADMIN, district)],
            reason="createadmin",
        )
        self.stdout.write(self.style.SUCCESS(f"已创建区系统管理员 {username}。"))
