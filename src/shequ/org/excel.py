"""Excel registers of the unit tree (X4): residential areas and district departments. The lookups here
(a residential area or a street by its statistical code or its name) serve the registry's registers too."""

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from shequ.core import excel

from .choices import STREET_KINDS, UnitKind
from .filters import DepartmentFilter, UnitFilter
from .models import Unit

NEIGHBORHOODS = excel.Lookup(
    _("居民区"),
    lambda: Unit.objects.filter(kind=UnitKind.NEIGHBORHOOD).only("pk", "code", "name", "path"),
    description=_("居民区的12位统计用区划代码，或居民区名称（重名时请填代码）"),
)
STREETS = excel.Lookup(
    _("街道/镇"),
    lambda: Unit.objects.filter(kind__in=STREET_KINDS).only("pk", "code", "name", "path"),
    description=_("街道或镇的9位统计用区划代码，或名称"),
)


@excel.register
class NeighborhoodRegister(excel.Register):
    """居民区: added and renamed by the district as the statistical division changes."""

    name = "units"
    model = Unit
    title = _("居民区")
    filterset_class = UnitFilter
    natural_key = ("code",)
    scope_column = "parent"
    select_related = ("parent",)
    columns = [
        excel.Column(
            "code",
            _("区划代码"),
            required=True,
            validators=(RegexValidator(r"^\d{12}$", _("居民区的统计用区划代码应为12位数字。")),),
            example="310106006099",
            help=_("国家统计局统计用区划代码，以所属街道的9位代码开头；用于匹配已有居民区。"),
        ),
        excel.Column("name", _("居民区名称"), example="示例居委会"),
        excel.Column(
            "parent", _("所属街道/镇"), required=True, lookup=STREETS, example="江宁路街道", width=16
        ),
        excel.Column("address", _("办公地址"), example="江宁路100号"),
        excel.Column("phone", _("联系电话"), example="021-62000000"),
    ]

    def base_queryset(self):
        return Unit.objects.filter(kind=UnitKind.NEIGHBORHOOD)

    def fixed_fields(self) -> dict[str, Any]:
        return {"kind": UnitKind.NEIGHBORHOOD}

    def landing_path(self, row: excel.Row) -> str | None:
        # A new residential area sits under its street: the path it will have once saved.
        parent, code = row.values.get("parent"), row.values.get("code")
        if isinstance(parent, Unit) and isinstance(code, str):
            return f"{parent.path}{code}/"
        return None


@excel.register
class DepartmentRegister(excel.Register):
    """区职能部门: units beside the streets, under the district's own grant."""

    name = "departments"
    model = Unit
    title = _("区职能部门")
    scope_label = "org.department"
    filterset_class = DepartmentFilter
    natural_key = ("code",)
    columns = [
        excel.Column(
            "code",
            _("部门编码"),
            required=True,
            example=f"{settings.DISTRICT_CODE}D99",
            help=_("区代码加“D”和序号，如 310106D01；用于匹配已有部门。"),
        ),
        excel.Column("name", _("部门名称"), example="区示例局"),
        excel.Column("address", _("办公地址"), example="常德路370号"),
        excel.Column("phone", _("联系电话"), example="021-62000000"),
    ]

    def base_queryset(self):
        return Unit.objects.filter(kind=UnitKind.DEPARTMENT)

    def export_queryset(self, user):
        # Departments are read under their own grant (Unit.extra_scope), whatever the unit grant says.
        return super().export_queryset(user).order_by("code")

    def fixed_fields(self) -> dict[str, Any]:
        return {"kind": UnitKind.DEPARTMENT, "parent": Unit.objects.get(kind=UnitKind.DISTRICT)}

    def landing_path(self, row: excel.Row) -> str | None:
        code = row.values.get("code")
        return f"/{settings.DISTRICT_CODE}/{code}/" if isinstance(code, str) else None
