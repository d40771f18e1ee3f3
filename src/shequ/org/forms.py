from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from shequ.core.forms import ScopedModelForm, style_widgets

from .choices import STREET_KINDS, UnitKind
from .models import Unit


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。"),
        "inactive": _("该账号已停用。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        style_widgets(self)


class NeighborhoodForm(ScopedModelForm):
    """A residential area: its 12-digit statistical code, under a street or town."""

    class Meta:
        model = Unit
        fields = ["code", "name", "parent", "address", "phone"]
        labels = {"parent": _("所属街道/镇")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = self.fields["parent"].queryset.filter(kind__in=STREET_KINDS)
        self.fields["parent"].required = True

    def model_fields(self) -> dict:
        return {**super().model_fields(), "kind": UnitKind.NEIGHBORHOOD}


class UnitForm(ScopedModelForm):
    """Editing a unit changes its name and contacts; its code and place in the tree are fixed by the
    statistical division and changed only by a new import."""

    class Meta:
        model = Unit
        fields = ["name", "address", "phone", "is_active"]


class DepartmentForm(ScopedModelForm):
    class Meta:
        model = Unit
        fields = ["code", "name", "address", "phone"]
        labels = {"code": _("部门编码"), "name": _("部门名称")}
