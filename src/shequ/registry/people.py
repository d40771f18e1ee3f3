"""Resident pages (居民): list, detail with household and history, create, edit, move-out, reveal;
the tag list the district office keeps; the personal-data access log. Writes go through services."""

import django_filters
import django_tables2 as tables
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequ.core.models import PersonalDataAccess
from shequ.core.tables import DateTimeColumn
from shequ.core.views import (
    ScopedCreateView,
    ScopedDetailView,
    ScopedListView,
    ScopedUpdateView,
    ServiceFormView,
)

from . import services
from .choices import ResidentStatus
from .filters import ResidentFilter, ResidentTagFilter
from .forms import EndResidenceForm, ResidentForm, ResidentTagForm, RevealForm
from .models import Resident, ResidentTag
from .tables import ResidentTable, ResidentTagTable


class ResidentList(ScopedListView):
    model = Resident
    template_name = "registry/resident_list.html"
    filterset_class = ResidentFilter
    table_class = ResidentTable
    select_related = ("unit", "building_group")
    prefetch_related = ("tags",)
    add_url_name = "resident-add"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        # Clerks work with the people living here; moved-out and deceased residents are one click away.
        data = (kwargs["data"] or QueryDict()).copy()
        if "status" not in data:
            data["status"] = ResidentStatus.LIVING
        kwargs["data"] = data
        return kwargs

    # People search building groups by name (`group`).
    hidden_filters = ("building_group",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_reveal_export"] = self.can("reveal")
        return context


class ResidentDetail(ScopedDetailView):
    model = Resident
    select_related = ("unit__parent", "building_group__building__estate", "household__head")
    prefetch_related = ("tags",)
    fields = (
        "name",
        "gender",
        "birth_date",
        "document_type",
        "id_masked",
        "phone_masked",
        "unit",
        "building_group",
        "room",
        "residence_type",
        "separated",
        "tags",
        "status",
        "moved_in_on",
        "status_changed_on",
        "note",
    )
    edit_url_name = "resident-edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        resident = self.object
        user = self.request.user
        if resident.household_id:
            context["household_members"] = (
                Resident.objects.restrict(user, "view")
                .filter(household_id=resident.household_id)
                .exclude(pk=resident.pk)
            )
        context["can_reveal"] = Resident.objects.restrict(user, "reveal").filter(pk=resident.pk).exists()
        context["reveal_form"] = RevealForm()
        context["end_form"] = EndResidenceForm()
        return context


class ResidentCreate(ScopedCreateView):
    model = Resident
    form_class = ResidentForm

    def save(self, form):
        # model_fields() holds the model's own fields only: the ID number and phone go through
        # personal_values() (encrypted by the service), tags and household headship as arguments.
        return services.create_resident(
            actor=self.request.user,
            tags=form.cleaned_data.get("tags", []),
            is_head=form.cleaned_data.get("is_head", False),
            **form.personal_values(),
            **form.model_fields(),
        )


class ResidentUpdate(ScopedUpdateView):
    model = Resident
    form_class = ResidentForm

    def save(self, form):
        changes = form.model_fields()
        return services.update_resident(
            actor=self.request.user,
            resident=self.object,
            changes=changes,
            tags=form.cleaned_data.get("tags"),
            is_head=form.cleaned_data.get("is_head", False),
            expected_version=form.cleaned_data.get("version"),
            reason=form.cleaned_data.get("reason", ""),
            **form.personal_values(),
        )


class ResidentEndResidence(ScopedUpdateView):
    """迁出 or 死亡: the record stays; its status and date change, with the reason in the audit trail."""

    model = Resident
    form_class = EndResidenceForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("%(name)s：迁出或死亡登记") % {"name": self.object}
        return context

    def save(self, form):
        return services.end_residence(
            actor=self.request.user,
            resident=self.object,
            status=form.cleaned_data["status"],
            on=form.cleaned_data["on"],
            reason=form.cleaned_data["reason"],
        )


class ResidentReveal(ServiceFormView):
    """Shows the full values once, on this response only, after logging the access. GET shows the form."""

    model = Resident
    grant = "reveal"
    form_class = RevealForm
    template_name = "registry/resident_reveal.html"

    def get_resident(self):
        return get_object_or_404(self.get_queryset().select_related("unit"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.get_resident()
        context["title"] = _("查看%(name)s的完整个人信息") % {"name": context["object"]}
        return context

    def form_valid(self, form):
        resident = self.get_resident()
        try:
            values = services.reveal_personal_data(
                actor=self.request.user,
                resident=resident,
                fields=form.cleaned_data["fields_to_reveal"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
            return self.form_invalid(form)
        except PermissionDenied as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        response = render(
            self.request, self.template_name, {**self.get_context_data(form=form), "values": values}
        )
        response["Cache-Control"] = "no-store"  # a revealed value must not stay in a cache
        return response


class ResidentTagList(ScopedListView):
    model = ResidentTag
    filterset_class = ResidentTagFilter
    table_class = ResidentTagTable
    add_url_name = "residenttag-add"


class ResidentTagCreate(ScopedCreateView):
    model = ResidentTag
    form_class = ResidentTagForm

    def save(self, form):
        return services.create_resident_tag(actor=self.request.user, **form.model_fields())


class ResidentTagUpdate(ScopedUpdateView):
    model = ResidentTag
    form_class = ResidentTagForm

    def save(self, form):
        return services.update_resident_tag(
            actor=self.request.user,
            tag=self.object,
            changes=form.model_fields(),
            expected_version=form.cleaned_data.get("version"),
        )


class AccessLogFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(label=_("查看人"), field_name="user__username", lookup_expr="icontains")
    q = django_filters.CharFilter(label=_("记录或原因"), method="search")
    since = django_filters.DateFilter(label=_("起始日期"), field_name="created_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("截止日期"), field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = PersonalDataAccess
        fields = ["user", "q", "since", "until"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(object_repr__icontains=value) | Q(reason__icontains=value))


class AccessLogTable(tables.Table):
    created_at = DateTimeColumn(format="Y-m-d H:i:s")
    user = tables.Column(verbose_name=_("查看人"), order_by=("user__username",))

    class Meta:
        model = PersonalDataAccess
        fields = ["created_at", "user", "object_repr", "fields", "record_count", "reason", "request_id"]
        attrs = {"class": "table table-vcenter card-table table-sm"}


class AccessLogList(ScopedListView):
    """The district office's view of every full view of personal data (PIPL)."""

    model = PersonalDataAccess
    filterset_class = AccessLogFilter
    table_class = AccessLogTable
    select_related = ("user",)
    title = gettext_lazy("个人信息查看记录")
    paginate_by = 50
