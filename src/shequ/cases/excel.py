"""The cases register (X4): any filtered case list exports to .xlsx; a 12345 hotline export imports as
new cases at 受理, matched on the hotline's work-order number so that importing the same export again
creates nothing twice. A work order already imported is left as the platform has moved it on."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core import excel
from shequ.org.excel import NEIGHBORHOODS

from . import services
from .choices import Source
from .filters import CaseFilter
from .models import Case, Category

CATEGORIES = excel.Lookup(
    _("案件类别"),
    lambda: Category.objects.filter(parent__isnull=False, is_active=True).only(
        "pk", "code", "name", "parent_id", "is_active"
    ),
    description=_("小类的编码或名称，如“E0101”或“暴露垃圾”"),
)
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d")


def local_time(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else None


def parse_time(value) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time(9, 0))
    else:
        text = excel.cell_text(value)
        for pattern in TIME_FORMATS:
            try:
                moment = datetime.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValidationError(_("“%(value)s”不是时间，请写成 2026-03-01 09:30。") % {"value": text})
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@excel.register
class CaseRegister(excel.Register):
    name = "cases"
    model = Case
    filterset_class = CaseFilter
    natural_key = ("external_code",)
    scope_column = "unit"
    select_related = ("category", "unit", "assignee")
    error_columns = {
        "reporter_phone": "reporter_phone",
        "reporter_phone_cipher": "reporter_phone",
        "reported_at": "reported",
        "dispatcher": "unit",
        "code": "external_code",
    }
    columns = [
        excel.Column(
            "external_code",
            _("外部工单号"),
            required=True,
            example="12345-20260301-0001",
            help=_("热线工单号；同一工单再次导入不会重复登记。"),
        ),
        excel.Column("code", _("案件编号"), importable=False),
        excel.Column(
            "reported",
            _("受理时间"),
            field=None,
            required=True,
            export="reported_at",
            export_format=local_time,
            example="2026-03-01 09:30",
        ),
        excel.Column(
            "category", _("问题类别"), lookup=CATEGORIES, aliases=("类别", "案件类别"), example="暴露垃圾"
        ),
        excel.Column("description", example="小区门口垃圾堆放未清运"),
        excel.Column("unit", _("居民区"), lookup=NEIGHBORHOODS, example="新安居委会"),
        excel.Column("address", example="江宁路1弄门口"),
        excel.Column("urgency", example="normal"),
        # Exported as stored: the masked forms (the cases register never reveals reporters in a file).
        excel.Column(
            "reporter_name",
            _("反映人"),
            field=None,
            sensitive=True,
            export="reporter_name_masked",
            example="王先生",
        ),
        excel.Column(
            "reporter_phone",
            _("联系电话"),
            field=None,
            sensitive=True,
            export="reporter_phone_masked",
            example="13800138000",
        ),
        excel.Column("stage", importable=False),
        excel.Column("assignee", _("承办单位"), importable=False, export="assignee.name"),
        excel.Column(
            "deadline",
            _("本环节时限"),
            field=None,
            importable=False,
            export="stage_deadline",
            export_format=local_time,
        ),
        excel.Column("overdue", importable=False),
        excel.Column(
            "closed",
            _("结案时间"),
            field=None,
            importable=False,
            export="closed_at",
            export_format=local_time,
        ),
        excel.Column("rating", importable=False),
    ]

    def base_queryset(self):
        return Case.objects.all()

    def prepare(self, rows, *, write):
        for row in rows:
            raw = row.values.get("reported", excel.EMPTY)
            if raw is excel.EMPTY:
                continue
            try:
                row.fields["reported_at"] = parse_time(raw)
            except ValidationError as error:
                row.error("reported", error.messages[0])

    def find_existing(self, rows, *, lock):
        existing = super().find_existing(rows, lock=lock)
        for row in rows:
            if row.key in existing:
                # Already imported: the platform's case has moved on; the export is not the record now.
                row.fields = {"external_code": row.fields["external_code"]}
        return existing

    def build(self, row, fixed):
        text = {
            name: excel.cell_text(row.values[name])
            if row.values.get(name, excel.EMPTY) is not excel.EMPTY
            else ""
            for name in ("reporter_name", "reporter_phone")
        }
        return services.new_case(
            source=Source.HOTLINE,
            category=row.fields["category"],
            description=row.fields.get("description", ""),
            unit=row.fields["unit"],
            address=row.fields.get("address") or "",
            urgency=row.fields.get("urgency") or "normal",
            reporter_name=text["reporter_name"],
            reporter_phone=text["reporter_phone"],
            external_code=row.fields["external_code"],
            now=row.fields.get("reported_at"),
        )

    def validate(self, instance, row):
        instance.full_clean(
            exclude=[
                "code",
                "unit",
                "category",
                "rule",
                "dispatcher",
                "assignee",
                "parent",
                "estate",
                "building_group",
                "grid",
                "open311_client",
            ]
        )

    def save_record(self, instance, *, row, actor, created):
        if created:
            services.open_case(actor=actor, case=instance)
        else:
            instance.save()
