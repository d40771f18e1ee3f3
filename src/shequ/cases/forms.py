from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.core.forms import ScopedModelForm, style_widgets
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit
from shequ.registry.models import BuildingGroup, Estate, Grid

from .choices import Rating, RatingChannel, Source, Urgency
from .models import Case, Category, ResponsibilityRule


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one field (the pattern of Django's documentation for multiple uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


def leaf_categories():
    return (
        Category.objects.filter(parent__isnull=False, is_active=True)
        .select_related("parent")
        .order_by("code")
    )


class IntakeForm(forms.Form):
    """The phone-friendly intake form: the place picker starts from the user's own area or grid."""

    category = forms.ModelChoiceField(label=_("问题类别"), queryset=Category.objects.none())
    description = forms.CharField(
        label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )
    unit = forms.ModelChoiceField(label=_("居民区"), queryset=Unit.objects.none())
    estate = forms.ModelChoiceField(label=_("小区"), queryset=Estate.objects.none(), required=False)
    building_group = forms.ModelChoiceField(
        label=_("楼组"), queryset=BuildingGroup.objects.none(), required=False
    )
    grid = forms.ModelChoiceField(label=_("网格"), queryset=Grid.objects.none(), required=False)
    address = forms.CharField(label=_("具体位置"), max_length=200, required=False)
    latitude = forms.DecimalField(
        label=_("纬度"), max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        label=_("经度"), max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )
    source = forms.ChoiceField(label=_("来源"), choices=Source.choices, initial=Source.GRID_PATROL)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    reporter_name = forms.CharField(label=_("反映人姓名"), max_length=40, required=False)
    reporter_phone = forms.CharField(label=_("反映人电话"), max_length=24, required=False)
    attachments = MultipleFileField(label=_("照片或文件"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].queryset = leaf_categories()
        areas = Unit.objects.restrict(user, "view").filter(kind__in=[UnitKind.NEIGHBORHOOD, *STREET_KINDS])
        self.fields["unit"].queryset = areas.order_by("path")
        self.fields["unit"].label_from_instance = lambda unit: (
            unit.name if unit.kind == UnitKind.NEIGHBORHOOD else (f"{unit.name}（街道）")
        )
        area_id = self.data.get("unit") or self.initial.get("unit")
        estates = Estate.objects.restrict(user, "view")
        groups = BuildingGroup.objects.restrict(user, "view").select_related("building")
        grids = Grid.objects.restrict(user, "view")
        if area_id and str(area_id).isdigit():
            self.fields["estate"].queryset = estates.filter(unit_id=area_id).order_by("name")
            estate_id = self.data.get("estate") or self.initial.get("estate")
            if estate_id and str(estate_id).isdigit():
                self.fields["building_group"].queryset = groups.filter(building__estate_id=estate_id)
            self.fields["grid"].queryset = grids.filter(neighborhoods__id=area_id) | grids.filter(
                unit_id=area_id
            )
        style_widgets(self)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class ReasonForm(NoteForm):
    note = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DispatchForm(NoteForm):
    assignee = forms.ModelChoiceField(label=_("承办单位"), queryset=Unit.objects.none())
    reason = forms.CharField(label=_("不按职责清单派遣的理由"), required=False, max_length=500)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, user=user, case=case, **kwargs)
        # A street dispatches to the departments, to itself, and to its own committees.
        street_path = case.dispatcher.path if case else "/"
        self.fields["assignee"].queryset = (
            Unit.objects.filter(is_active=True)
            .filter(Q(kind=UnitKind.DEPARTMENT) | Q(path__startswith=street_path))
            .order_by("kind", "path")
        )
        style_widgets(self)


class FeedbackForm(forms.Form):
    result = forms.CharField(label=_("处置结果"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    attachments = MultipleFileField(label=_("处置后照片"), required=False)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class VerifyForm(NoteForm):
    passed = forms.TypedChoiceField(
        label=_("核查结果"),
        choices=[("1", _("通过，结案")), ("0", _("不通过，退回处置"))],
        coerce=lambda value: value == "1",
    )
    attachments = MultipleFileField(label=_("核查照片"), required=False)


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("满意度"), choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    channel = forms.ChoiceField(label=_("方式"), choices=RatingChannel.choices, initial=RatingChannel.PHONE)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class PublicRateForm(RateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["channel"]


class MergeForm(forms.Form):
    parent = forms.ModelChoiceField(label=_("合并至案件"), queryset=Case.objects.none(), to_field_name="code")

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Case.objects.restrict(user, "view") if user else Case.objects.none()
        self.fields["parent"].widget = forms.TextInput(attrs={"placeholder": "JA2026-0000001"})
        style_widgets(self)


class SupervisionForm(forms.Form):
    reason = forms.CharField(label=_("督办原因"), max_length=300)
    days = forms.IntegerField(label=_("督办时限（工作日）"), min_value=1, max_value=30, initial=2)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class SummonsForm(forms.Form):
    street = forms.ModelChoiceField(label=_("约请街道"), queryset=Unit.objects.none())
    department = forms.ModelChoiceField(
        label=_("被约请部门"), queryset=Unit.objects.filter(kind=UnitKind.DEPARTMENT, is_active=True)
    )
    reason = forms.CharField(label=_("约请事由"), max_length=300)
    request = forms.CharField(label=_("约请事项"), widget=forms.Textarea(attrs={"rows": 3}))
    response_days = forms.IntegerField(label=_("答复时限（工作日）"), min_value=1, max_value=30, initial=3)
    meeting_at = forms.DateTimeField(
        label=_("会商时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    cases = forms.ModelMultipleChoiceField(
        label=_("涉及案件"),
        queryset=Case.objects.none(),
        required=False,
        to_field_name="code",
        widget=forms.MultipleHiddenInput,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = Unit.objects.restrict(user, "view").filter(kind__in=STREET_KINDS)
        self.fields["cases"].queryset = Case.objects.restrict(user, "view")
        style_widgets(self)


class SummonsAnswerForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("答复"),
        coerce=lambda value: value == "1",
        choices=[("1", _("接受约请，牵头处理")), ("0", _("说明情况"))],
    )
    answer = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class SummonsCloseForm(forms.Form):
    outcome = forms.CharField(label=_("办理结果"), widget=forms.Textarea(attrs={"rows": 3}))
    rating_timeliness = forms.TypedChoiceField(
        label=_("响应及时性"), coerce=int, choices=[(n, f"{n} 分") for n in range(5, 0, -1)]
    )
    rating_result = forms.TypedChoiceField(
        label=_("办理结果满意度"), coerce=int, choices=[(n, f"{n} 分") for n in range(5, 0, -1)]
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class CategoryForm(ScopedModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "kind", "parent", "description", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Category.objects.filter(parent__isnull=True)


class RuleForm(ScopedModelForm):
    class Meta:
        model = ResponsibilityRule
        fields = [
            "category",
            "scope",
            "housing_type",
            "responsible",
            "responsible_unit",
            "register_hours",
            "dispatch_hours",
            "handle_limit",
            "handle_unit",
            "verify_hours",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = leaf_categories()
        self.fields["scope"].queryset = Unit.objects.filter(kind__in=[UnitKind.DISTRICT, *STREET_KINDS])
        self.fields["responsible_unit"].queryset = Unit.objects.exclude(kind=UnitKind.DISTRICT).order_by(
            "path"
        )


class Open311ClientForm(forms.Form):
    name = forms.CharField(label=_("应用名称"), max_length=100)
    contact = forms.CharField(label=_("联系人"), max_length=100, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)
