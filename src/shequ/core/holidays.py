"""The 节假日安排 pages: the district office keeps the holiday table that core.workdays computes with.
Declarations on the scoped base views; writes go through core.workdays' services."""

import django_filters
import django_tables2 as tables
from django import forms
from django.utils.translation import gettext_lazy as _

from . import workdays
from .forms import ScopedModelForm
from .models import CalendarDay, CalendarDayKind
from .tables import DateColumn, editable_link
from .views import ScopedCreateView, ScopedListView, ScopedUpdateView

WEEKDAYS = "一二三四五六日"


class CalendarDayFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("年份"), field_name="date", lookup_expr="year")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=CalendarDayKind.choices)

    class Meta:
        model = CalendarDay
        fields = ["year", "kind"]


class CalendarDayTable(tables.Table):
    date = DateColumn(format="Y-m-d", linkify=editable_link("calendarday-edit"))
    weekday = tables.Column(verbose_name=_("星期"), accessor="date", orderable=False)

    class Meta:
        model = CalendarDay
        fields = ["date", "weekday", "kind", "name", "note"]
        attrs = {"class": "table table-vcenter card-table table-striped"}

    def render_weekday(self, value) -> str:
        return f"周{WEEKDAYS[value.weekday()]}"


class CalendarDayForm(ScopedModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name", "note"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class CalendarDayList(ScopedListView):
    model = CalendarDay
    filterset_class = CalendarDayFilter
    table_class = CalendarDayTable
    template_name = "core/calendarday_list.html"
    add_url_name = "calendarday-add"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["package_years"] = workdays.PACKAGE_YEARS
        context["unknown_years"] = workdays.unknown_years()
        return context


class CalendarDayCreate(ScopedCreateView):
    model = CalendarDay
    form_class = CalendarDayForm

    def save(self, form):
        return workdays.create_calendar_day(actor=self.request.user, **form.model_fields())


class CalendarDayUpdate(ScopedUpdateView):
    model = CalendarDay
    form_class = CalendarDayForm

    def save(self, form):
        return workdays.update_calendar_day(
            actor=self.request.user,
            calendar_day=self.object,
            changes=form.model_fields(),
            expected_version=form.cleaned_data.get("version"),
            reason=form.cleaned_data.get("reason", ""),
        )
