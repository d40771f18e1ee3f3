"""The base classes every page view starts from. Each applies `restrict(user, action)` once, so that no
page touches a bare manager: lists and details use 'view', edit forms 'change', create forms need the
'add' grant somewhere. Missing and forbidden records are both 404; a list or form the role has no grant
for at all is 403."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, TemplateView, View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from . import excel
from .audit import history_for
from .filters import AuditFilter
from .forms import style_widgets
from .models import AuditEntry, ImportJob, ImportStatus
from .scoping import grant_label, user_may
from .tables import AuditTable


def is_partial(request) -> bool:
    """An htmx request for part of a page (not a history restore, which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def yes_no(value) -> str:
    """A boolean as a reader says it: 是/否 (— when unknown), never True/False."""
    if value is None:
        return "—"
    return _("是") if value else _("否")


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
        return user_may(self.request.user, self.model, action, self.scope_label)


class ScopedListView(ScopedMixin, SingleTableMixin, FilterView):
    """A declared list: model, filterset_class, table_class. Filters, sorting and pagination re-render
    only the table through htmx; the same URL gives the whole page to a normal request."""

    template_name = "core/list.html"
    partial_template_name = "core/_list_body.html"
    paginate_by = 25
    title = ""
    # The Excel register behind the 导入/导出 buttons (core.excel); by default the one declared for this
    # list's model and grant label. False hides the buttons.
    excel_register: str | bool | None = None
    # Filters that take a database id (for the API and for links from a record's page): they still
    # filter, but the page's filter form does not offer them, since nobody types an id.
    hidden_filters: tuple[str, ...] = ()

    def get_template_names(self):
        if is_partial(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def paginate_queryset(self, queryset, page_size):
        # The table paginates (django-tables2 reads paginate_by too); Django's list view paginating the
        # same rows again cost a second COUNT on every list page, and nothing reads its page_obj.
        return None, None, queryset, False

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["request"] = self.request
        return kwargs

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        # core/table.html boosts the sorting and pagination links of this table (only those) into
        # #list-body; a table on any other page has no #list-body to swap.
        table.list_swap = True
        return table

    def get_context_data(self, **kwargs):
        for name in self.hidden_filters:  # FilterView.get has filtered the rows already
            self.filterset.form.fields.pop(name, None)
        context = super().get_context_data(**kwargs)
        context["title"] = self.title or self.model._meta.verbose_name_plural
        style_widgets(context["filter"].form)
        # Filters the address sets beyond the first (the search box, always in view): on a phone the
        # folded ones open when there are some (core/list.html).
        context["folded_filters"] = sum(
            1 for name in list(context["filter"].form.fields)[1:] if any(self.request.GET.getlist(name))
        )
        context["can_add"] = self.can("add") and getattr(self, "add_url_name", None)
        context["add_url_name"] = getattr(self, "add_url_name", None)
        context["excel"] = excel_buttons(self)
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
            elif isinstance(field, models.BooleanField):
                value = yes_no(getattr(obj, name))
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

    def get_initial(self):
        # The values of a form's picker chain in the address: a link like ?unit=… starts the form there,
        # and core/app.js asks for the re-rendered pickers this way (ScopedModelForm.picker_fields).
        initial = super().get_initial()
        for name in getattr(self.get_form_class(), "picker_fields", ()):
            if self.request.method == "GET" and self.request.GET.get(name):
                initial[name] = self.request.GET[name]
        return initial

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


# Excel import and export (X4) ---------------------------------------------------------------------
# Thin pages over core.excel: the same service functions serve the API and the `shequ import` command.


def excel_buttons(view: ScopedListView) -> dict | None:
    """The 导入/导出 buttons of a list page, when a register is declared for it. The export link carries
    the list's current filters (without the page number), so it writes exactly the rows listed."""
    if view.excel_register is False:
        return None
    if view.excel_register:
        register_ = excel.get_register(view.excel_register)
    else:
        register_ = excel.register_for(view.model, view.scope_label or grant_label(view.model))
    if register_ is None:
        return None
    user = view.request.user
    query = QueryDict(mutable=True)
    for name, values in view.request.GET.lists():
        if name != "page" and any(values):  # the filter form sends its empty fields too
            query.setlist(name, [value for value in values if value])
    export_url = reverse("excel-export", args=[register_.name])
    return {
        "register": register_,
        "can_import": user_may(user, register_.model, "add", register_.scope_label),
        "can_export": user_may(user, register_.model, "view", register_.scope_label),
        "import_url": reverse("excel-import", args=[register_.name]),
        "export_url": f"{export_url}?{query.urlencode()}" if query else export_url,
    }


class RegisterMixin(LoginRequiredMixin):
    """A page about one register, named in the URL: 404 for an unknown one, 403 without the grant
    (importing needs 'add' on the register, exporting 'view')."""

    action = "view"

    def dispatch(self, request, *args, **kwargs):
        self.register = excel.get_register(kwargs["register"])
        if request.user.is_authenticated:
            excel.check_access(self.register, request.user, self.action)
        return super().dispatch(request, *args, **kwargs)


class ImportUploadForm(forms.Form):
    # Kept with its only view: the checks of the file itself are core.excel's (start_import).
    file = forms.FileField(
        label=gettext_lazy("Excel 文件（.xlsx）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        error_messages={
            "required": gettext_lazy("请选择要导入的文件。"),
            "empty": gettext_lazy("文件是空的。"),
        },
    )


class ExcelImport(RegisterMixin, FormView):
    action = "add"
    template_name = "core/excel_import.html"
    form_class = ImportUploadForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        style_widgets(form)
        return form

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            job = excel.start_import(user=self.request.user, register_name=self.register.name, upload=upload)
        except ValidationError as error:
            form.add_error("file", error.messages)
            return self.form_invalid(form)
        return HttpResponseRedirect(job.get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("导入%(title)s") % {"title": self.register.title}
        context["register"] = self.register
        context["columns"] = self.register.importable_columns()
        context["notes"] = excel.general_notes(self.register)
        context["max_size"] = excel.max_upload_text()
        return context


class ExcelTemplate(RegisterMixin, View):
    action = "add"

    def get(self, request, *args, **kwargs):
        return excel.template_response(self.register)


class ExcelExport(RegisterMixin, View):
    def get(self, request, *args, **kwargs):
        try:
            return excel.export_response(
                self.register, user=request.user, params=request.GET, request=request
            )
        except ValidationError as error:
            context = {
                "title": _("无法导出%(title)s") % {"title": self.register.title},
                "errors": error.messages,
            }
            return render(request, "core/excel_message.html", context, status=400)


class ExcelIndex(LoginRequiredMixin, TemplateView):
    """Every register the user may export or import, and the import jobs the user may see."""

    template_name = "core/excel_index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        titles = {}
        rows = []
        for register_ in excel.registers():
            titles[register_.name] = register_.title
            can_view = user_may(user, register_.model, "view", register_.scope_label)
            can_add = user_may(user, register_.model, "add", register_.scope_label)
            if can_view or can_add:
                rows.append({"register": register_, "can_export": can_view, "can_import": can_add})
        jobs = list(ImportJob.objects.restrict(user, "view").select_related("user")[:50])
        for job in jobs:
            job.register_title = titles.get(job.register, job.register)
        context.update({"title": _("Excel 导入导出"), "registers": rows, "jobs": jobs})
        return context


class ImportJobMixin(LoginRequiredMixin):
    """An import job: its owner's, or anyone's for those who read the audit trail; 404 otherwise."""

    job_action = "view"

    def get_job(self) -> ImportJob:
        return get_object_or_404(
            ImportJob.objects.restrict(self.request.user, self.job_action), pk=self.kwargs["pk"]
        )


class ImportJobDetail(ImportJobMixin, TemplateView):
    """The job page; polled through htmx every second (the partial) while the job runs."""

    template_name = "core/import_job.html"
    partial_template_name = "core/_import_job.html"
    errors_shown = 200

    def get_template_names(self):
        return [self.partial_template_name if is_partial(self.request) else self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.get_job()
        register_ = excel.get_register(job.register)
        progress = excel.read_progress(job)
        total = progress.get("rows_total") or 0
        done = (
            progress.get("rows_written")
            if job.status == ImportStatus.IMPORTING
            else progress.get("rows_checked")
        )
        context.update(
            {
                "title": _("导入%(title)s") % {"title": register_.title},
                "job": job,
                "register": register_,
                "progress": progress,
                "progress_max": max(total, done or 0) or None,
                "progress_value": done or 0,
                "errors": job.errors[: self.errors_shown],
                "errors_hidden": max(0, job.error_count - min(len(job.errors), self.errors_shown)),
                "can_view_audit": self.request.user.can("core.auditentry", "view"),
                "can_commit": job.status == ImportStatus.CHECKED
                and job.user_id == self.request.user.pk
                and self.request.user.can(register_.label, "add"),
            }
        )
        return context


class ImportJobErrors(ImportJobMixin, View):
    def get(self, request, *args, **kwargs):
        return excel.error_report_response(self.get_job())


class ImportJobCommit(ImportJobMixin, View):
    """确认导入: only the owner, only a job whose check passed."""

    job_action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        job = self.get_job()
        try:
            excel.request_commit(user=request.user, job=job)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(job.get_absolute_url())
