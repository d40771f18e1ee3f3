"""One filterset per register, used by the list page and the API alike. Related records are chosen by
code or id among those the user can see."""

import datetime

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import AgeBand, HousingType, ResidenceType, ResidentStatus
from .models import Block, Building, BuildingGroup, Estate, Grid, Resident, ResidentTag
from .services import document_index_candidates, phone_index


def _units(kinds):
    def queryset(request):
        units = Unit.objects.filter(kind__in=kinds)
        if request is None:
            return units.none()
        return units.restrict(request.user, "view")

    return queryset


class PlaceFilterSet(django_filters.FilterSet):
    """Every registry list can be narrowed to a street and a residential area."""

    street = django_filters.ModelChoiceFilter(
        label=_("街道/镇"), queryset=_units(STREET_KINDS), to_field_name="code", method="filter_street"
    )
    neighborhood = django_filters.ModelChoiceFilter(
        label=_("居民区"), queryset=_units([UnitKind.NEIGHBORHOOD]), to_field_name="code", field_name="unit"
    )

    # The hint tells drf-spectacular what the street filter takes (a unit, given by its code: a string).
    def filter_street(self, queryset, name, value: Unit | None):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset


class EstateFilter(PlaceFilterSet):
    q = django_filters.CharFilter(label=_("名称或地址"), method="search")
    housing_type = django_filters.ChoiceFilter(label=_("房屋类型"), choices=HousingType.choices)
    built_after = django_filters.NumberFilter(
        label=_("建成年份起"), field_name="built_year", lookup_expr="gte"
    )
    built_before = django_filters.NumberFilter(
        label=_("建成年份止"), field_name="built_year", lookup_expr="lte"
    )

    class Meta:
        model = Estate
        fields = ["q", "street", "neighborhood", "housing_type", "built_after", "built_before"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))


class BuildingFilter(PlaceFilterSet):
    q = django_filters.CharFilter(label=_("楼号或地址"), method="search")
    estate = django_filters.NumberFilter(label=_("小区编号"), field_name="estate_id")
    has_elevator = django_filters.BooleanFilter(label=_("有电梯"))

    class Meta:
        model = Building
        fields = ["q", "street", "neighborhood", "estate", "has_elevator"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value) | Q(address__icontains=value) | Q(estate__name__icontains=value)
        )


class BuildingGroupFilter(PlaceFilterSet):
    q = django_filters.CharFilter(label=_("楼组、楼组长或小区"), method="search")
    estate = django_filters.NumberFilter(label=_("小区编号"), field_name="building__estate_id")
    building = django_filters.NumberFilter(label=_("楼栋编号"), field_name="building_id")

    class Meta:
        model = BuildingGroup
        fields = ["q", "street", "neighborhood", "estate", "building"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(leader_name__icontains=value)
            | Q(building__estate__name__icontains=value)
        )


class GridFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("编码或名称"), method="search")
    street = django_filters.ModelChoiceFilter(
        label=_("街道/镇"), queryset=_units(STREET_KINDS), to_field_name="code", field_name="unit"
    )

    class Meta:
        model = Grid
        fields = ["q", "street"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class BlockFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称"), field_name="name", lookup_expr="icontains")
    street = django_filters.ModelChoiceFilter(
        label=_("街道/镇"), queryset=_units(STREET_KINDS), to_field_name="code", field_name="unit"
    )

    class Meta:
        model = Block
        fields = ["q", "street"]


def _birth_dates_for(band: str) -> dict:
    """The birth-date range of an age band, as of today (an age band is "18-59" or "80-")."""
    today = datetime.date.today()
    low, _dash, high = band.partition("-")

    def years_ago(years: int) -> datetime.date:
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    bounds = {"birth_date__lte": years_ago(int(low))}
    if high:
        bounds["birth_date__gt"] = years_ago(int(high) + 1)
    return bounds


class ResidentFilter(PlaceFilterSet):
    q = django_filters.CharFilter(label=_("姓名"), field_name="name", lookup_expr="icontains")
    id_number = django_filters.CharFilter(label=_("证件号码（精确）"), method="by_id_number")
    phone = django_filters.CharFilter(label=_("电话（精确）"), method="by_phone")
    tag = django_filters.ModelChoiceFilter(
        label=_("标签"),
        queryset=lambda request: ResidentTag.objects.filter(is_active=True),
        field_name="tags",
        to_field_name="code",
    )
    age_band = django_filters.ChoiceFilter(label=_("年龄段"), choices=AgeBand.choices, method="by_age_band")
    residence_type = django_filters.ChoiceFilter(label=_("人口类型"), choices=ResidenceType.choices)
    separated = django_filters.BooleanFilter(label=_("人户分离"))
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=ResidentStatus.choices, empty_label=_("全部")
    )
    building_group = django_filters.NumberFilter(label=_("楼组编号"), field_name="building_group_id")

    class Meta:
        model = Resident
        fields = [
            "q",
            "id_number",
            "phone",
            "street",
            "neighborhood",
            "tag",
            "age_band",
            "residence_type",
            "separated",
            "status",
            "building_group",
        ]

    def by_id_number(self, queryset, name, value: str):
        # Exact match through the blind index: the number itself is never in the database.
        return queryset.filter(id_index__in=document_index_candidates(value))

    def by_phone(self, queryset, name, value: str):
        return queryset.filter(phone_index=phone_index(value))

    def by_age_band(self, queryset, name, value: str):
        return queryset.filter(**_birth_dates_for(value))


class ResidentTagFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称"), field_name="name", lookup_expr="icontains")

    class Meta:
        model = ResidentTag
        fields = ["q", "is_active"]
