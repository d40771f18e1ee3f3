import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import CategoryKind, Source, Stage, SummonsStatus, Urgency
from .models import Case, Category, Notification, Open311Client, ResponsibilityRule, Summons


def _units(kinds):
    def queryset(request):
        units = Unit.objects.filter(kind__in=kinds)
        return units.restrict(request.user, "view") if request is not None else units.none()

    return queryset


def _assignees(request):
    """Departments, and the streets and areas the user can see: what a case of theirs can be sent to."""
    if request is None:
        return Unit.objects.none()
    visible = Unit.objects.restrict(request.user, "view").exclude(kind=UnitKind.DISTRICT).values("pk")
    return Unit.objects.filter(Q(kind=UnitKind.DEPARTMENT) | Q(pk__in=visible)).order_by("kind", "path")


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("编号或描述"), method="search")
    stage = django_filters.ChoiceFilter(label=_("环节"), choices=Stage.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("类别"),
        to_field_name="code",
        method="by_category",
        queryset=Category.objects.filter(is_active=True).select_related("parent").order_by("code"),
    )
    source = django_filters.ChoiceFilter(label=_("来源"), choices=Source.choices)
    urgency = django_filters.ChoiceFilter(label=_("紧急程度"), choices=Urgency.choices)
    street = django_filters.ModelChoiceFilter(
        label=_("街道/镇"), queryset=_units(STREET_KINDS), to_field_name="code", method="by_street"
    )
    assignee = django_filters.ModelChoiceFilter(
        label=_("承办单位"), queryset=_assignees, to_field_name="code"
    )
    overdue = django_filters.BooleanFilter(label=_("超时"))
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
            "assignee",
            "overdue",
            "since",
            "until",
        ]

    def search(self, queryset, name, value: str):
        return queryset.filter(
            Q(code__icontains=value) | Q(description__icontains=value) | Q(address__icontains=value)
        )

    def by_category(self, queryset, name, value: Category | None):
        if not value:
            return queryset
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def by_street(self, queryset, name, value: Unit | None):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset


class SummonsFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=SummonsStatus.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("部门"), queryset=Unit.objects.filter(kind=UnitKind.DEPARTMENT), to_field_name="code"
    )

    class Meta:
        model = Summons
        fields = ["status", "department"]


class CategoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称或编码"), method="search")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=CategoryKind.choices)

    class Meta:
        model = Category
        fields = ["q", "kind", "is_active"]

    def search(self, queryset, name, value: str):
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))


class RuleFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        label=_("类别编码"), field_name="category__code", lookup_expr="startswith"
    )

    class Meta:
        model = ResponsibilityRule
        fields = ["category", "responsible", "is_active"]


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(label=_("未读"), field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]


class Open311ClientFilter(django_filters.FilterSet):
    class Meta:
        model = Open311Client
        fields = ["is_active"]
