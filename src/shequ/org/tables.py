import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Unit


class DepartmentTable(tables.Table):
    name = tables.Column(linkify=("department-detail", {"code": tables.A("code")}))

    class Meta:
        model = Unit
        fields = ["code", "name", "address", "phone"]
        attrs = {"class": "table table-vcenter card-table table-striped"}
        empty_text = _("没有符合条件的部门。")
