import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditEntry


class AuditFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("记录名称、编号或原因"), method="search")
    actor = django_filters.CharFilter(label=_("操作人"), field_name="actor_name", lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label=_("操作"), choices=AuditAction.choices)
    content_type = django_filters.ModelChoiceFilter(
        label=_("记录类型"),
        queryset=ContentType.objects.filter(app_label__in=["org", "registry", "core"]).order_by(
            "app_label", "model"
        ),
    )
    since = django_filters.DateFilter(label=_("起始日期"), field_name="created_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("截止日期"), field_name="created_at", lookup_expr="date__lte")
    request_id = django_filters.CharFilter(label=_("请求编号"))

    class Meta:
        model = AuditEntry
        fields = ["q", "actor", "action", "content_type", "since", "until", "request_id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(object_repr__icontains=value) | Q(object_id=value) | Q(reason__icontains=value)
        )
