import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Unit


class DepartmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称或编码"), method="search")

    class Meta:
        model = Unit
        fields = ["q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class UnitFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称或代码"), method="search")
    parent = django_filters.CharFilter(label=_("上级单位代码"), field_name="parent__code")

    class Meta:
        model = Unit
        fields = ["q", "kind", "parent"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))
