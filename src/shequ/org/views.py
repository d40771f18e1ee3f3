"""Accounts and the management of units and departments. The tree browsing pages are in registry,
which knows the places under each unit."""

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from shequ.core.display import plain
from shequ.core.forms import style_widgets
from shequ.core.views import ScopedCreateView, ScopedDetailView, ScopedListView, ScopedUpdateView

from . import services
from .choices import UnitKind
from .filters import DepartmentFilter
from .forms import DepartmentForm, LoginForm, NeighborhoodForm, UnitForm
from .models import Unit
from .tables import DepartmentTable


class LoginView(auth_views.LoginView):
    template_name = "org/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/form.html"
    success_url = reverse_lazy("password-change-done")
    extra_context = {"title": _("修改密码")}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        style_widgets(form)
        return form


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "org/password_change_done.html"


class UnitCreate(ScopedCreateView):
    """New residential areas are added by the district (the statistical division changes rarely)."""

    model = Unit
    form_class = NeighborhoodForm
    title = _("新建居民区")

    def get_initial(self):
        return {"parent": Unit.objects.filter(code=self.request.GET.get("parent")).first()}

    def save(self, form):
        return services.create_unit(actor=self.request.user, **form.model_fields())


class UnitUpdate(ScopedUpdateView):
    model = Unit
    form_class = UnitForm
    lookup_field = "code"
    pk_url_kwarg = "code"

    def get_queryset(self):
        return super().get_queryset().exclude(kind=UnitKind.DEPARTMENT)

    def save(self, form):
        return services.update_unit(
            actor=self.request.user,
            unit=self.object,
            changes=form.model_fields(),
            expected_version=form.cleaned_data.get("version"),
            reason=form.cleaned_data.get("reason", ""),
        )


class DepartmentList(ScopedListView):
    model = Unit
    scope_label = "org.department"
    filterset_class = DepartmentFilter
    table_class = DepartmentTable
    title = _("区职能部门")
    add_url_name = "department-add"

    def get_queryset(self):
        return super().get_queryset().filter(kind=UnitKind.DEPARTMENT)

    def can(self, action):
        return self.request.user.can("org.department", action)


class DepartmentDetail(ScopedDetailView):
    model = Unit
    scope_label = "org.department"
    template_name = "org/department_detail.html"
    slug_field = "code"
    slug_url_kwarg = "code"
    fields = ("code", "name", "address", "phone", "is_active")
    edit_url_name = "department-edit"

    def get_queryset(self):
        return super().get_queryset().filter(kind=UnitKind.DEPARTMENT)

    def get_template_names(self):
        return [self.template_name]

    def detail_rows(self):
        # 启用: 是/否, not True/False (core.display).
        return [(label, plain(value)) for label, value in super().detail_rows()]


class DepartmentCreate(ScopedCreateView):
    model = Unit
    scope_label = "org.department"
    form_class = DepartmentForm
    title = _("新建区职能部门")

    def save(self, form):
        return services.create_department(actor=self.request.user, **form.model_fields())


class DepartmentUpdate(ScopedUpdateView):
    model = Unit
    scope_label = "org.department"
    form_class = DepartmentForm
    lookup_field = "code"
    pk_url_kwarg = "code"

    def get_queryset(self):
        return super().get_queryset().filter(kind=UnitKind.DEPARTMENT)

    def save(self, form):
        return services.update_unit(
            actor=self.request.user,
            unit=self.object,
            changes=form.model_fields(),
            expected_version=form.cleaned_data.get("version"),
            reason=form.cleaned_data.get("reason", ""),
        )
