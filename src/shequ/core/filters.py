"""Filters shared by every list: a yes/no filter whose empty choice reads 全部 (Django's reads 未知, "unknown",
where a list means "all"), and a FilterSet base that gives it to every boolean model field; the audit
search's filters."""

import django_filters
from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditEntry


class YesNoSelect(forms.NullBooleanSelect):
    """全部 / 是 / 否. The empty choice sends nothing (?overdue=), which the filter ignores."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", _("全部")), ("true", _("是")), ("false", _("否"))]

    def format_value(self, value):
        # A list, as Select expects: a string would make the empty choice match too ("" in "true").
        shown = super().format_value(value)
        return ["" if shown == "unknown" else shown]


class YesNoFilter(django_filters.BooleanFilter):
    """A boolean filter for lists: `overdue = YesNoFilter(label=_("超时"))`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", YesNoSelect)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.FilterSet):
    """Base of the lists' filter sets: boolean model fields named in Meta.fields filter with YesNoFilter."""

    FILTER_DEFAULTS = {
        **django_filters.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        models.BooleanField: {"filter_class": YesNoFilter},
    }


AUDITED_APPS = ("org", "registry", "core", "cases")


def audited_content_types(request=None):
    """The kinds of governance record the trail holds, for the audit search's picker, by their Chinese
    names: the platform's models that have one (technical tables such as a number sequence do not)."""
    kinds = [
        model
        for model in apps.get_models()
        if model._meta.app_label in AUDITED_APPS
        and any("\u4e00" <= char <= "\u9fff" for char in str(model._meta.verbose_name))
    ]
    pks = [content_type.pk for content_type in ContentType.objects.get_for_models(*kinds).values()]
    return ContentType.objects.filter(pk__in=pks).order_by("app_label", "model")


class ContentTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        model = obj.model_class()
        return model._meta.verbose_name if model is not None else obj.model


class ContentTypeFilter(django_filters.ModelChoiceFilter):
    field_class = ContentTypeChoiceField


class AuditFilter(FilterSet):
    q = django_filters.CharFilter(label=_("记录名称、编号或原因"), method="search")
    actor = django_filters.CharFilter(label=_("操作人"), method="by_actor")
    action = django_filters.ChoiceFilter(label=_("操作"), choices=AuditAction.choices, empty_label=_("全部"))
    content_type = ContentTypeFilter(
        label=_("记录类型"), queryset=audited_content_types, empty_label=_("全部")
    )
    since = django_filters.DateFilter(label=_("起始日期"), field_name="created_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("截止日期"), field_name="created_at", lookup_expr="date__lte")
    request_id = django_filters.CharFilter(label=_("请求编号"))

    class Meta:
        model = AuditEntry
        fields = ["q", "actor", "action", "content_type", "since", "until", "request_id"]

    def by_actor(self, queryset, name, value):
        # The trail keeps the login name; people search by the name they see (显示为“单位 姓名”).
        return queryset.filter(Q(actor_name__icontains=value) | Q(actor__display_name__icontains=value))

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(object_repr__icontains=value) | Q(object_id=value) | Q(reason__icontains=value)
        )
