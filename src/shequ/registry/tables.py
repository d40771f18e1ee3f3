import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shequ.core.tables import yes_no_column

from .models import Block, Building, BuildingGroup, Estate, Grid, Resident, ResidentTag


class EstateTable(tables.Table):
    name = tables.Column(linkify=True)
    unit = tables.Column(verbose_name=_("居民区"), order_by=("unit__path", "name"))
    street = tables.Column(verbose_name=_("街道/镇"), accessor="unit__parent__name", order_by=("unit__path",))

    class Meta:
        model = Estate
        fields = ["name", "street", "unit", "housing_type", "built_year", "households", "address"]
        attrs = {"class": "table table-vcenter card-table table-striped"}


class BuildingTable(tables.Table):
    number = tables.Column(linkify=True)
    estate = tables.Column(linkify=True, order_by=("estate__name", "number"))
    unit = tables.Column(verbose_name=_("居民区"), order_by=("unit__path",))
    has_elevator = yes_no_column()

    class Meta:
        model = Building
        fields = ["estate", "number", "unit", "floors", "households", "has_elevator", "address"]
        attrs = {"class": "table table-vcenter card-table table-striped"}


class BuildingGroupTable(tables.Table):
    name = tables.Column(linkify=True)
    estate = tables.Column(
        verbose_name=_("小区"), accessor="building__estate__name", order_by=("building__estate__name",)
    )
    building = tables.Column(
        verbose_name=_("楼号"), accessor="building__number", order_by=("building__number",)
    )
    unit = tables.Column(verbose_name=_("居民区"), order_by=("unit__path",))

    class Meta:
        model = BuildingGroup
        fields = ["estate", "building", "name", "unit", "households", "leader_name"]
        attrs = {"class": "table table-vcenter card-table table-striped"}


class GridTable(tables.Table):
    code = tables.Column(linkify=True)
    unit = tables.Column(verbose_name=_("街道/镇"), order_by=("unit__path",))
    area_count = tables.Column(verbose_name=_("覆盖居民区数"), orderable=True)

    class Meta:
        model = Grid
        fields = ["code", "name", "unit", "area_count", "description"]
        attrs = {"class": "table table-vcenter card-table table-striped"}


class BlockTable(tables.Table):
    name = tables.Column(linkify=True)
    unit = tables.Column(verbose_name=_("街道/镇"), order_by=("unit__path",))
    area_count = tables.Column(verbose_name=_("居民区数"), orderable=True)
    member_count = tables.Column(verbose_name=_("成员单位数"), orderable=True)

    class Meta:
        model = Block
        fields = ["name", "unit", "area_count", "member_count", "description"]
        attrs = {"class": "table table-vcenter card-table table-striped"}


class ResidentTable(tables.Table):
    name = tables.Column(linkify=True)
    id_masked = tables.Column(verbose_name=_("证件号码"), orderable=False)
    phone_masked = tables.Column(verbose_name=_("电话"), orderable=False)
    age = tables.Column(verbose_name=_("年龄"), accessor="age", order_by=("-birth_date",))
    unit = tables.Column(verbose_name=_("居民区"), order_by=("unit__path",))
    building_group = tables.Column(verbose_name=_("楼组"), order_by=("building_group__name",))
    tag_names = tables.Column(verbose_name=_("标签"), accessor="tags", orderable=False)
    separated = yes_no_column()

    class Meta:
        model = Resident
        fields = [
            "name",
            "gender",
            "age",
            "id_masked",
            "phone_masked",
            "unit",
            "building_group",
            "room",
            "residence_type",
            "separated",
            "tag_names",
            "status",
        ]
        attrs = {"class": "table table-vcenter card-table table-striped"}

    def render_tag_names(self, value):
        return "、".join(tag.name for tag in value.all()) or "—"


class ResidentTagTable(tables.Table):
    # A tag is its name here; its code (for Excel files and the API) shows only in the edit form.
    name = tables.Column()
    is_active = yes_no_column()

    def render_name(self, value, record):
        # A link to the edit form only for those who keep the list (the district office): everyone else
        # reads the same tags and would meet a refusal.
        user = getattr(getattr(self, "request", None), "user", None)
        if user is not None and user.can("registry.residenttag", "change"):
            return format_html('<a href="{}">{}</a>', reverse("residenttag-edit", args=[record.pk]), value)
        return value

    class Meta:
        model = ResidentTag
        fields = ["name", "description", "is_active"]
        attrs = {"class": "table table-vcenter card-table table-striped"}
