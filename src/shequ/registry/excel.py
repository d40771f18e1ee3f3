"""Excel registers of the places (X4): estates, buildings, building groups and grids. Each row finds
its residential area (or street) by code or name, its estate by name within that area, its building by
楼号 within the estate; rows are matched to existing records by the same natural keys."""

from django.utils.translation import gettext_lazy as _

from shequ.core import excel
from shequ.org.excel import NEIGHBORHOODS, STREETS

from .filters import BuildingFilter, BuildingGroupFilter, EstateFilter, GridFilter
from .models import Building, BuildingGroup, Estate, Grid

AREA_HELP = _("居民区的12位区划代码或名称；只能填您有权管理的居民区。")


@excel.register
class EstateRegister(excel.Register):
    name = "estates"
    model = Estate
    filterset_class = EstateFilter
    natural_key = ("unit", "name")
    scope_column = "unit"
    select_related = ("unit",)
    columns = [
        excel.Column("unit", _("居民区"), lookup=NEIGHBORHOODS, example="新安居委会", help=AREA_HELP),
        excel.Column("name", example="示例花园", help=_("同一居民区内小区名称不能重复。")),
        excel.Column("housing_type", example="commercial"),
        excel.Column("address", example="江宁路1弄"),
        excel.Column("built_year", example=2001, help=_("四位年份，1840–2100。")),
        excel.Column("households", example=300),
        excel.Column("floor_area", example="12000.50"),
    ]


@excel.register
class BuildingRegister(excel.Register):
    name = "buildings"
    model = Building
    filterset_class = BuildingFilter
    natural_key = ("estate", "number")
    scope_column = "area"
    select_related = ("estate__unit",)
    error_columns = {"unit": "area"}
    columns = [
        excel.Column(
            "area",
            _("居民区"),
            lookup=NEIGHBORHOODS,
            field=None,
            required=True,
            export="estate.unit",
            example="新安居委会",
            help=AREA_HELP,
        ),
        excel.Column(
            "estate_name",
            _("小区名称"),
            field=None,
            required=True,
            export="estate.name",
            example="示例花园",
            help=_("该居民区中已登记的小区。"),
        ),
        excel.Column("number", example="1号", help=_("同一小区内楼号不能重复。")),
        excel.Column("address", example="江宁路1弄1号"),
        excel.Column("floors", example=6),
        excel.Column("households", example=30),
        excel.Column("has_elevator", example=False),
    ]
    relations = [
        excel.Relation(
            "estate",
            Estate,
            {"unit": "area", "name": "estate_name"},
            column="estate_name",
            message=_("居民区“%(area)s”中没有小区“%(estate_name)s”。"),
        )
    ]


@excel.register
class BuildingGroupRegister(excel.Register):
    name = "building-groups"
    model = BuildingGroup
    filterset_class = BuildingGroupFilter
    natural_key = ("building", "name")
    scope_column = "area"
    select_related = ("building__estate__unit",)
    error_columns = {"unit": "area"}
    columns = [
        excel.Column(
            "area",
            _("居民区"),
            lookup=NEIGHBORHOODS,
            field=None,
            required=True,
            export="building.estate.unit",
            example="新安居委会",
            help=AREA_HELP,
        ),
        excel.Column(
            "estate_name",
            _("小区名称"),
            field=None,
            required=True,
            export="building.estate.name",
            example="示例花园",
        ),
        excel.Column(
            "building_number",
            _("楼号"),
            field=None,
            required=True,
            export="building.number",
            example="1号",
            help=_("该小区中已登记的楼号。"),
        ),
        excel.Column("name", example="1号1楼组", help=_("同一楼栋内楼组名称不能重复。")),
        excel.Column("households", example=12),
        excel.Column("leader_name", example="王阿姨"),
        excel.Column("note"),
    ]
    relations = [
        excel.Relation(
            "building",
            Building,
            {"estate__unit": "area", "estate__name": "estate_name", "number": "building_number"},
            column="building_number",
            message=_("居民区“%(area)s”的小区“%(estate_name)s”中没有楼号“%(building_number)s”。"),
        )
    ]


@excel.register
class GridRegister(excel.Register):
    name = "grids"
    model = Grid
    filterset_class = GridFilter
    natural_key = ("code",)
    scope_column = "unit"
    select_related = ("unit",)
    prefetch_related = ("neighborhoods",)
    columns = [
        excel.Column("code", example="310106006G01", help=_("全区唯一；用于匹配已有网格。")),
        excel.Column("name", example="示例网格"),
        excel.Column("unit", _("所属街道/镇"), lookup=STREETS, example="江宁路街道"),
        excel.Column(
            "neighborhoods",
            lookup=NEIGHBORHOODS,
            many=True,
            example="新安居委会、联宝里居委会",
            help=_("网格覆盖的居民区，多个用顿号分隔。"),
        ),
        excel.Column("description"),
    ]
