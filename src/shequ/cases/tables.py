import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from shequ.core.tables import DateTimeColumn, editable_link, yes_no_column

from .models import Case, Category, Notification, Open311Client, ResponsibilityRule, Summons


class CaseTable(tables.Table):
    code = tables.Column(linkify=True)
    category = tables.Column(order_by=("category__code",))
    unit = tables.Column(verbose_name=_("地点"), order_by=("unit__path",))
    assignee = tables.Column(order_by=("assignee__path",))
    stage_deadline = DateTimeColumn(format="m-d H:i")
    reported_at = DateTimeColumn(format="Y-m-d H:i")
    overdue = tables.BooleanColumn(yesno="超时,")

    class Meta:
        model = Case
        fields = [
            "code",
            "reported_at",
            "source",
            "category",
            "unit",
            "stage",
            "assignee",
            "stage_deadline",
            "overdue",
        ]
        attrs = {"class": "table table-vcenter card-table table-striped"}
        row_attrs = {
            "class": lambda record: (
                "table-danger" if record.overdue else ("table-warning" if record.warned else "")
            )
        }


class SummonsTable(tables.Table):
    code = tables.Column(linkify=True)
    response_deadline = DateTimeColumn(format="Y-m-d H:i")
    answered_on_time = yes_no_column(verbose_name=_("按时答复"), null=True)

    class Meta:
        model = Summons
        fields = [
            "code",
            "created_at",
            "street",
            "department",
            "reason",
            "status",
            "response_deadline",
            "answered_on_time",
        ]
        attrs = {"class": "table table-vcenter card-table table-striped"}


class CategoryTable(tables.Table):
    name = tables.Column(linkify=editable_link("category-edit"))
    parent = tables.Column(verbose_name=_("大类"))
    is_active = yes_no_column(verbose_name=_("启用"))

    class Meta:
        model = Category
        fields = ["code", "name", "kind", "parent", "is_active"]
        attrs = {"class": "table table-vcenter card-table table-sm"}


class RuleTable(tables.Table):
    category = tables.Column(linkify=editable_link("rule-edit"), order_by=("category__code",))
    handle = tables.Column(verbose_name=_("处置时限"), accessor="handle_limit", order_by=("handle_limit",))
    is_active = yes_no_column(verbose_name=_("启用"))

    class Meta:
        model = ResponsibilityRule
        fields = [
            "category",
            "scope",
            "housing_type",
            "responsible",
            "responsible_unit",
            "handle",
            "is_active",
        ]
        attrs = {"class": "table table-vcenter card-table table-sm"}

    def render_handle(self, record):
        return f"{record.handle_limit} {record.get_handle_unit_display()}"


class NotificationTable(tables.Table):
    # The model's foreign keys carry no verbose names: without these headers the table shows UNIT / CASE.
    unit = tables.Column(verbose_name=_("接收单位"))
    case = tables.Column(verbose_name=_("案件"), linkify=True)
    created_at = DateTimeColumn(format="Y-m-d H:i")

    class Meta:
        model = Notification
        fields = ["created_at", "unit", "message", "case"]
        attrs = {"class": "table table-vcenter card-table table-sm"}


class Open311ClientTable(tables.Table):
    is_active = yes_no_column(verbose_name=_("启用"))

    class Meta:
        model = Open311Client
        fields = ["name", "contact", "key_prefix", "is_active", "created_at"]
        attrs = {"class": "table table-vcenter card-table table-sm"}
