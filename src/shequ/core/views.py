"""The base classes every page view starts from. Each applies `restrict(user, action)` once, so that no
page touches a bare manager: lists and details use 'view', edit forms 'change', create forms need the
'add' grant somewhere. Missing and forbidden records are both 404; a list or form the role has no grant
for at all is 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .audit import history_for
from .filters import AuditFilter
from .models import AuditEntry
from .scoping import grant_label
from .tables import AuditTable


def is_partial(request) -> bool:
    """An htmx request for part of a page (not a history restore, which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


class ScopedMixin(LoginRequiredMixin):
    model: type[models.Model] | None = None
    grant = "view"
    # The grant label checked for the page; by default the model's ("registry.estate"). Department
    # pages use "org.department" although departments are units.
    scope_label: str | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.can(self.grant):
            raise PermissionDenied(_("您的岗位无权访问此页面。"))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        queryset = self.model.objects.restrict(self.request.user, self.grant)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def can(self, action: str) -> bool:
        return self.request.user.can(self.scope_label or grant_label(self.model), action)


class ScopedListView(ScopedMixin, SingleTableMixin, FilterView):
    """A declared list: model, filterset_class, table_class. Filters, sorting and pagination re-render
    only the table through htmx; the same URL gives the whole page to a normal request."""

    template_name = "core/list.html"
    partial_template_name = "core/_list_body.html"
    paginate_by = 25
    title = ""

    def get_template_names(self):
        if is_partial(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["request"] = self.request
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title or self.model._meta.verbose_name_plural
        context["can_add"] = self.can("add") and getattr(self, "add_url_name", None)
        context["add_url_name"] = getattr(self, "add_url_name", None)
        return context


class ScopedDetailView(ScopedMixin, DetailView):
    template_name = "core/detail.html"
    fields: tuple[str, ...] = ()

    def get_template_names(self):
        opts = self.model._meta
        return [f"{opts.app_label}/{opts.model_name}_detail.html", self.template_name]

    def detail_rows(self):
        obj = self.object
        rows = []
        for name in self.fields:
            field = obj._meta.get_field(name)
            if field.choices:
                value = getattr(obj, f"get_{name}_display")()
            elif field.many_to_many:
                value = "、".join(str(item) for item in getattr(obj, name).all()) or "—"
            else:
                value = getattr(obj, name)
            rows.append((field.verbose_name, "—" if value in (None, "") else value))
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = self.detail_rows()
        context["history"] = history_for(self.object)[:50]
        context["can_change"] = (
            self.model.objects.restrict(self.request.user, "change").filter(pk=self.object.pk).exists()
        )
        context["edit_url_name"] = getattr(self, "edit_url_name", None)
        return context


class ServiceFormView(ScopedMixin, FormView):
    """A create or edit form whose write is one service call. Model validation errors come back onto
    the form; a scope violation becomes a form error too, and nothing is written."""

    template_name = "core/form.html"
    title = ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def save(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            obj = self.save(form)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, field_errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form.add_error(None, error.messages)
            return self.form_invalid(form)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权保存此记录。"))
            return self.form_invalid(form)
        messages.success(self.request, _("已保存“%(name)s”。") % {"name": obj})
        return HttpResponseRedirect(obj.get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        return context


class ScopedCreateView(ServiceFormView):
    grant = "add"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title or _("新建%(name)s") % {"name": self.model._meta.verbose_name}
        return context


class ScopedUpdateView(ServiceFormView):
    """Edits the record found in restrict(user, 'change') (404 otherwise). The form carries the version
    the user saw, so two people editing at once cannot overwrite each other silently."""

    grant = "change"
    pk_url_kwarg = "pk"
    lookup_field = "pk"

    def get_object(self):
        return get_object_or_404(self.get_queryset(), **{self.lookup_field: self.kwargs[self.pk_url_kwarg]})

    def get_form_kwargs(self):
        self.object = self.get_object()
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.object
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["title"] = self.title or _("编辑%(name)s") % {"name": self.object}
        return context


class AuditList(ScopedListView):
    """The audit search page for auditors and district admins."""

    model = AuditEntry
    filterset_class = AuditFilter
    table_class = AuditTable
    title = _("审计日志")
    paginate_by = 50
    select_related = ("content_type",)
