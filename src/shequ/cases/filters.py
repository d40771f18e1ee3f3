import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.core.filters import FilterSet, YesNoFilter
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import CategoryKind, Source, Stage, SummonsStatus, Urgency
from .models import Case, Category, Notification, Open311Client, ResponsibilityRule, Summons
from .selectors import FIGURES, figure_q


def category_choices() -> list[tuple[str, str]]:
    """(code, "大类 / 小类") of the active categories, in code order: one query of three columns. A
    ModelChoiceFilter made a model instance per option, read through a server-side cursor on PostgreSQL
    (three round trips), on every list and queue page."""
    rows = (
        Category.objects.filter(is_active=True).order_by("code").values_list("code", "name", "parent__name")
    )
    return [(code, f"{parent} / {name}" if parent else name) for code, name, parent in rows]


def _streets(request):
    """The streets and towns the user may see, as (code, name), lazily: the API filters without ever
    rendering the picker."""
    units = Unit.objects.filter(kind__in=STREET_KINDS)
    units = units.restrict(request.user, "view") if request is not None else units.none()
    return lambda: list(units.order_by("code").values_list("code", "name"))


def _units_named(text: str, path_field: str) -> Q:
    """Cases whose place (or assignee) lies under a unit given by its code (as links send it) or by part
    of its name (as a person types it): one small query for the units' paths."""
    text = text.strip()
    if not text:
        return Q()
    units = Unit.objects.filter(code=text).values_list("path", flat=True)
    paths = list(units) or list(
        Unit.objects.filter(name__icontains=text, is_active=True).values_list("path", flat=True)[:50]
    )
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(**{f"{path_field}__startswith": path})
    return query


class CaseFilter(FilterSet):
    q = django_filters.CharFilter(label=_("编号或描述"), method="search")
    stage = django_filters.ChoiceFilter(label=_("环节"), choices=Stage.choices)
    category = django_filters.ChoiceFilter(label=_("类别"), choices=category_choices, method="by_category")
    source = django_filters.ChoiceFilter(label=_("来源"), choices=Source.choices)
    urgency = django_filters.ChoiceFilter(label=_("紧急程度"), choices=Urgency.choices)
    street = django_filters.ChoiceFilter(label=_("街道/镇"), method="by_street")
    place = django_filters.CharFilter(
        label=_("地点"),
        method="by_place",
        widget=forms.TextInput(attrs={"placeholder": _("居民区或街道名称")}),
    )
    # The dashboard's figures (selectors.FIGURES): each figure links to the list filtered by its own
    # condition, so that the list is as long as the figure says.
    status = django_filters.ChoiceFilter(
        label=_("情形"),
        choices=[(name, label) for name, (label, _q) in FIGURES.items()],
        method="by_status",
        empty_label=_("全部"),
    )
    # Typed, not picked: a drop-down of every unit a case can be sent to is ~365 options (267
    # residential areas), one query and a page of HTML on every list and queue page. A unit's code (as
    # the API and the dashboard's links send it) matches exactly; any other text, part of its name.
    assignee = django_filters.CharFilter(
        label=_("承办单位"),
        method="by_assignee",
        widget=forms.TextInput(attrs={"placeholder": _("单位名称，如：房管局")}),
    )
    overdue = YesNoFilter(label=_("超时"))
    since = django_filters.DateFilter(label=_("受理起"), field_name="reported_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("受理止"), field_name="reported_at", lookup_expr="date__lte")

    class Meta:
        model = Case
        fields = [
            "q",
            "stage",
            "category",
            "source",
            "urgency",
            "street",
            "place",
            "assignee",
            "overdue",
            "status",
            "since",
            "until",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["street"].extra["choices"] = _streets(self.request)

    def search(self, queryset, name, value: str):
        return queryset.filter(
            Q(code__icontains=value) | Q(description__icontains=value) | Q(address__icontains=value)
        )

    def by_category(self, queryset, name, value: str):
        # A 大类 takes in its 小类.
        return (
            queryset.filter(Q(category__code=value) | Q(category__parent__code=value)) if value else queryset
        )

    def by_street(self, queryset, name, value: str):
        # The code was checked against the streets the user may see (the choices).
        path = Unit.objects.filter(code=value).values_list("path", flat=True).first() if value else None
        return queryset.filter(unit__path__startswith=path) if path else queryset

    def by_assignee(self, queryset, name, value: str):
        return queryset.filter(_units_named(value, "assignee__path"))

    def by_place(self, queryset, name, value: str):
        return queryset.filter(_units_named(value, "unit__path"))

    def by_status(self, queryset, name, value: str):
        return queryset.filter(figure_q(value)) if value in FIGURES else queryset


class SummonsFilter(FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=SummonsStatus.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("部门"), queryset=Unit.objects.filter(kind=UnitKind.DEPARTMENT), to_field_name="code"
    )

    class Meta:
        model = Summons
        fields = ["status", "department"]


class CategoryFilter(FilterSet):
    q = django_filters.CharFilter(label=_("名称或编码"), method="search")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=CategoryKind.choices)

    class Meta:
        model = Category
        fields = ["q", "kind", "is_active"]

    def search(self, queryset, name, value: str):
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))


class RuleFilter(FilterSet):
    category = django_filters.CharFilter(
        label=_("类别编码"), field_name="category__code", lookup_expr="startswith"
    )

    class Meta:
        model = ResponsibilityRule
        fields = ["category", "responsible", "is_active"]


class NotificationFilter(FilterSet):
    unread = YesNoFilter(label=_("未读"), field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]


class Open311ClientFilter(FilterSet):
    class Meta:
        model = Open311Client
        fields = ["is_active"]
