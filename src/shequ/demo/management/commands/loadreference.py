from django.core.management.base import BaseCommand
from django.db import transaction

from shequ.cases.seed import load_categories, load_rules
from shequ.demo.loader import LoadReport, load_tags, load_units


class Command(BaseCommand):
    help = "载入静安区的参考数据（不含任何合成数据和演示账号）：区划代码单位树、区职能部门、居民标签、案件类别和初始职责清单。"

    @transaction.atomic
    def handle(self, *args, **options):
        report = LoadReport()
        load_units(report)
        load_tags()
        load_rules(load_categories())
        self.stdout.write(
            self.style.SUCCESS(
                f"参考数据已就绪：新增单位 {report.units}，职能部门 {report.departments}（重复运行不会重复添加）。"
            )
        )
