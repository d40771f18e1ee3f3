"""One filterset per register, used by the list page and the API alike. Related records are chosen by
code or id among those the user can see."""

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.core.personal_data import normalise_document
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import AgeBand, HousingType, ResidenceType, ResidentStatus
from .models import Block, Building, BuildingGroup, Estate, Grid, Resident, ResidentTag
from .services import document_index_candidates, phone_index

# How much of an ID number a list shows in clear at its end (core.personal_data.mask_document).
ID_TAIL = 4


def yes_no_filter(label, **kwargs) -> django_filters.BooleanFilter:
    """是/否 with 全部 for "no filter" (the default select says 未知, which reads as a third answer)."""
    choices = (("", _("全部")), ("true", _("是")), ("false", _("否")))
    return django_filters.BooleanFilter(label=label, widget=forms.Select(choices=choices), **kwargs)


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
    q = django_filters.CharFilter(label=_("楼号、地址或小区"), method="search")
    estate = django_filters.NumberFilter(label=_("小区编号"), field_name="estate_id")
    has_elevator = yes_no_filter(_("有电梯"))

    class Meta:
        model = Building
        fields = ["q", "street", "neighborhood", "estate", "has_elevator"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value) | Q(address__icontains=value) | Q(estate__name__icontains=value)
        )


class BuildingGroupFilter(PlaceFilterSet):
    q = django_filters.CharFilter(label=_("楼组、楼组长、小区或楼号"), method="search")
    estate = django_filters.NumberFilter(label=_("小区编号"), field_name="building__estate_id")
    building = django_filters.NumberFilter(label=_("楼栋编号"), field_name="building_id")

    class Meta:
        model = BuildingGroup
        fields = ["q", "street", "neighborhood", "estate", "building"]

    def search(self, queryset, name, value):
        # Every word must match somewhere: "新安坊 3号" finds the groups of building 3 of 新安坊.
        query = Q()
        for word in value.split():
            query &= (
                Q(name__icontains=word)
                | Q(leader_name__icontains=word)
                | Q(building__number__icontains=word)
                | Q(building__estate__name__icontains=word)
            )
        return queryset.filter(query)


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
    id_number = django_filters.CharFilter(label=_("证件号码（完整或末4位）"), method="by_id_number")
    phone = django_filters.CharFilter(label=_("电话（精确）"), method="by_phone")
    tag = django_filters.ModelChoiceFilter(
        label=_("标签"),
        queryset=lambda request: ResidentTag.objects.filter(is_active=True),
        field_name="tags",
        to_field_name="code",
    )
    age_band = django_filters.ChoiceFilter(label=_("年龄段"), choices=AgeBand.choices, method="by_age_band")
    residence_type = django_filters.ChoiceFilter(label=_("人口类型"), choices=ResidenceType.choices)
    separated = yes_no_filter(_("人户分离"))
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=ResidentStatus.choices, empty_label=_("全部")
    )
    # By name, as a clerk knows it ("3号", "新安花园 12号"): a database id meant nothing to anyone.
    group = django_filters.CharFilter(label=_("楼组（小区、楼号或楼组名）"), method="by_group")
    # By id, for the API and links from a building group's page; the list page does not show it.
    building_group = django_filters.NumberFilter(field_name="building_group_id")

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
            "group",
            "building_group",
        ]

    def by_id_number(self, queryset, name, value: str):
        number = normalise_document(value)
        if len(number) == ID_TAIL:
            return self.by_id_tail(queryset, number)
        # A whole number: exact match through the blind index; the number itself is never stored.
        return queryset.filter(id_index__in=document_index_candidates(value))

    def by_id_tail(self, queryset, tail: str):
        """The last four characters of the number, for those who may reveal the resident's numbers.

        Privacy (PIPL; DESIGN.md, personal data): nothing new is stored for this. The masked form
        (310106********123X) already keeps the last four characters in clear and every list shows it;
        searching it tells a user no more than reading the list. A blind index of the last 4 or 6 digits
        would be a second, weaker copy of the number (a tail has only 10,000 or 1,000,000 values, so its
        index is easily inverted by whoever holds the key). The search is limited to residents whose
        full numbers the user may reveal, as issue 9 asks: a tail narrows a population to a person."""
        user = getattr(self.request, "user", None)
        if user is None:
            return queryset.none()
        revealable = Resident.objects.restrict(user, "reveal").values("pk")
        return queryset.filter(id_masked__endswith=tail, pk__in=revealable)

    def by_group(self, queryset, name, value: str):
        query = Q()
        for word in value.split():
            query &= (
                Q(building_group__name__icontains=word)
                | Q(building_group__building__number__icontains=word)
                | Q(building_group__building__estate__name__icontains=word)
            )
        return queryset.filter(query)

    def by_phone(self, queryset, name, value: str):
        return queryset.filter(phone_index=phone_index(value))

    def by_age_band(self, queryset, name, value: str):
        return queryset.filter(**_birth_dates_for(value))


class ResidentTagFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称"), field_name="name", lookup_expr="icontains")
    is_active = yes_no_filter(_("启用"))

    class Meta:
        model = ResidentTag
        fields = ["q", "is_active"]
