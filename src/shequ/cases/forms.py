import re

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.core.forms import ScopedModelForm, style_widgets
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit
from shequ.registry.models import BuildingGroup, Estate, Grid

from . import services
from .attachments import check_photo
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


def name_required_fields(form: forms.BaseForm) -> None:
    """Django's "该字段是必填项。" does not say which field: when the message shows as a notice at the top
    of a page (or a screen reader reads it alone) the user cannot tell what is missing. Each required
    field says what to fill or choose instead ("请填写退单原因。")."""
    for field in form.fields.values():
        if isinstance(field, forms.FileField):
            verb = _("请上传%(label)s。")
        elif isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
            verb = _("请选择%(label)s。")
        else:
            verb = _("请填写%(label)s。")
        field.error_messages["required"] = verb % {"label": field.label}


def finish_form(form: forms.BaseForm) -> None:
    """The common ending of a case form's __init__: Tabler classes, and required messages naming the field."""
    style_widgets(form)
    name_required_fields(form)


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
        self.fields["building_group"].label_from_instance = group_label
        if not self.is_bound and not self.initial.get("unit"):
            # A committee clerk (or anyone with one place) does not pick it.
            only = list(areas.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial["unit"] = only[0]
        area_id = self.data.get("unit") or self.initial.get("unit")
        estate_id = self.data.get("estate") or self.initial.get("estate")
        if area_id and str(area_id).isdigit():
            self.fields["estate"].queryset = area_estates(user, area_id)
            if estate_id and str(estate_id).isdigit():
                self.fields["building_group"].queryset = estate_groups(user, estate_id)
            self.fields["grid"].queryset = area_grids(user, area_id)
            if not self.is_bound and not self.initial.get("grid"):
                only = list(self.fields["grid"].queryset.values_list("pk", flat=True)[:2])
                if len(only) == 1:  # the area's one grid
                    self.initial["grid"] = only[0]
        style_widgets(self)


# The intake form's dependent pickers, also answered one by one to htmx (views.PlaceOptions).


def area_estates(user, area_id):
    return Estate.objects.restrict(user, "view").filter(unit_id=area_id).order_by("name")


def estate_groups(user, estate_id):
    return (
        BuildingGroup.objects.restrict(user, "view")
        .filter(building__estate_id=estate_id)
        .select_related("building")
        .order_by("building__number", "name")
    )


def group_label(group: BuildingGroup) -> str:
    return f"{group.building.number} {group.name}"


def area_grids(user, area_id):
    """The grids covering a residential area, or those of a street (grids belong to streets)."""
    grids = Grid.objects.restrict(user, "view")
    covering = grids.filter(neighborhoods__id=area_id) | grids.filter(unit_id=area_id)
    return covering.distinct().order_by("code")


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        finish_form(self)


class ReasonForm(NoteForm):
    note = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReturnForm(ReasonForm):
    """退单: the department says why the case is not theirs (the street re-dispatches on that reason)."""

    note = forms.CharField(label=_("退单原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


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
        # The responsibility list's unit is chosen already and named as the suggestion: the dispatcher
        # only changes it when the case belongs elsewhere (and then gives a reason). A bound form keeps
        # what was sent, so the choice survives a refused submit.
        proposed = services.propose_assignee(case) if case is not None and case.rule_id else None
        if proposed is not None:
            self.fields["assignee"].initial = proposed.pk
            self.fields["assignee"].label_from_instance = lambda unit: (
                _("%(unit)s（职责清单建议）") % {"unit": unit.name} if unit.pk == proposed.pk else unit.name
            )
        style_widgets(self)


class RegisterDispatchForm(DispatchForm):
    """立案并派遣: the unit first (preselected from the responsibility list), then the reason to send it
    elsewhere, then a note that goes on the 立案 entry of the timeline."""

    field_order = ["assignee", "reason", "note"]


class FeedbackForm(forms.Form):
    result = forms.CharField(label=_("处置结果"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    attachments = MultipleFileField(label=_("处置后照片"), required=False)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        finish_form(self)


class VerifyForm(NoteForm):
    passed = forms.TypedChoiceField(
        label=_("核查结果"),
        choices=[("1", _("通过，结案")), ("0", _("不通过，退回处置"))],
        coerce=lambda value: value == "1",
    )
    attachments = MultipleFileField(label=_("核查照片"), required=False)

    # On the spot, on a phone: the verdict first, then the photo, then what was seen.
    field_order = ["passed", "attachments", "note"]


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("满意度"), choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    channel = forms.ChoiceField(label=_("方式"), choices=RatingChannel.choices, initial=RatingChannel.PHONE)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        finish_form(self)


class CaptchaInput(CaptchaTextInput):
    """django-simple-captcha's widget with our own markup (a Chinese alt text, the answer box styled)."""

    template_name = "cases/_captcha_widget.html"


class PublicRateForm(RateForm):
    """The reporter's rating on the tracking page: three real radio buttons (not styled as text boxes) and
    a message naming the field when none is chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["channel"]
        rating = self.fields["rating"]
        rating.widget.attrs["class"] = "form-check-input"
        rating.error_messages["required"] = _("满意度：请选择满意、基本满意或不满意。")
        rating.error_messages["invalid_choice"] = _("满意度：请选择满意、基本满意或不满意。")
        self.fields["comment"].label = _("意见（可不填）")


class PublicReportForm(forms.Form):
    """A resident's report without an account (cases.public): what, where, photos, and optionally who.

    The place is one choice, `e<id>` for an estate or `u<id>` for a residential area, picked from a search
    of the registry; coordinates from the phone's location are kept as given (estates have no coordinates
    to match them against yet)."""

    category = forms.TypedChoiceField(label=_("问题类别"), choices=(), coerce=int, empty_value=None)
    description = forms.CharField(
        label=_("问题描述"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("例如：3号楼门口路灯不亮已经一周")}),
    )
    place = forms.CharField(label=_("地点"), max_length=20, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("具体位置"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：5号楼东侧自行车棚")}),
    )
    latitude = forms.DecimalField(
        label=_("纬度"),
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        widget=forms.HiddenInput,
    )
    longitude = forms.DecimalField(
        label=_("经度"),
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        widget=forms.HiddenInput,
    )
    photos = MultipleFileField(
        label=_("照片（可不传，最多 %(n)d 张）") % {"n": 4},
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "multiple": True}),
    )
    reporter_name = forms.CharField(label=_("您的称呼（可不填）"), max_length=40, required=False)
    reporter_phone = forms.CharField(
        label=_("联系电话（可不填，便于回访）"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    MAX_PHOTOS = 4

    def __init__(self, *args, captcha: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {}
        for category in leaf_categories():
            groups.setdefault(category.parent.name, []).append((category.pk, category.name))
        self.fields["category"].choices = [("", _("请选择")), *groups.items()]
        self.fields["category"].error_messages["required"] = _("问题类别：请选择一类。")
        self.fields["description"].error_messages["required"] = _("问题描述：请说明发生了什么。")
        self.fields["place"].error_messages["required"] = _("地点：请搜索并选择小区或居民区。")
        for name in ("latitude", "longitude"):  # hidden: filled by the page, so one message for any fault
            self.fields[name].error_messages = dict.fromkeys(
                ("invalid", "min_value", "max_value", "max_digits", "max_decimal_places", "max_whole_digits"),
                _("位置：无法识别，请重新定位或在地图上点选。"),
            )
        if captcha:
            self.fields["captcha"] = CaptchaField(
                label=_("验证码：请计算图中算式"),
                widget=CaptchaInput(),
                error_messages={
                    "invalid": _("验证码：答案不对，请计算新图中的算式。"),
                    "required": _("验证码：请填写图中算式的结果。"),
                    "incomplete": _("验证码：请填写图中算式的结果。"),
                },
            )
        style_widgets(self)

    def clean_category(self):
        category = leaf_categories().filter(pk=self.cleaned_data["category"]).first()
        if category is None:
            raise forms.ValidationError(_("问题类别：请选择一类。"))
        return category

    def clean_place(self):
        value = self.cleaned_data["place"]
        kind, pk = value[:1], value[1:]
        if pk.isdigit():
            if kind == "e":
                estate = Estate.objects.filter(pk=pk).select_related("unit").first()
                if estate is not None:
                    return {"unit": estate.unit, "estate": estate}
            if kind == "u":
                unit = Unit.objects.filter(pk=pk, kind=UnitKind.NEIGHBORHOOD, is_active=True).first()
                if unit is not None:
                    return {"unit": unit, "estate": None}
        raise forms.ValidationError(_("地点：请搜索并选择小区或居民区。"))

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > self.MAX_PHOTOS:
            raise forms.ValidationError(_("照片：最多 %(n)d 张。") % {"n": self.MAX_PHOTOS})
        for photo in photos:
            check_photo(photo, _("照片"))
        return photos

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            data["latitude"] = data["longitude"] = None
        return data


class MergeForm(forms.Form):
    parent = forms.ModelChoiceField(label=_("合并至案件"), queryset=Case.objects.none(), to_field_name="code")

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Case.objects.restrict(user, "view") if user else Case.objects.none()
        self.fields["parent"].widget = forms.TextInput(attrs={"placeholder": "JA2026-0000001"})
        finish_form(self)


class SupervisionForm(forms.Form):
    reason = forms.CharField(label=_("督办原因"), max_length=300)
    days = forms.IntegerField(label=_("督办时限（工作日）"), min_value=1, max_value=30, initial=2)

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        finish_form(self)


CASE_CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")
MAX_SUMMONS_CASES = 50


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
    cases = forms.CharField(
        label=_("涉及案件编号"),
        required=False,
        max_length=2000,
        help_text=_("可填写多个案件编号，用空格、逗号或顿号分隔，例如 JA2026-0000001、JA2026-0000002。"),
        widget=forms.TextInput(attrs={"placeholder": "JA2026-0000001", "autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        streets = Unit.objects.restrict(user, "view").filter(kind__in=STREET_KINDS).order_by("path")
        self.fields["street"].queryset = streets
        self.fields["department"].queryset = self.fields["department"].queryset.order_by("code")
        finish_form(self)

    def clean_cases(self) -> list[Case]:
        """The cases named by code, each one the user may view. A code that does not exist and one the
        user may not see get the same answer, which repeats only what the user typed."""
        typed = CASE_CODE_SEPARATORS.split(self.cleaned_data["cases"].upper())
        codes = list(dict.fromkeys(code for code in typed if code))
        if len(codes) > MAX_SUMMONS_CASES:
            raise ValidationError(
                _("一次约请最多涉及 %(n)d 件案件。") % {"n": MAX_SUMMONS_CASES}, code="too_many"
            )
        found = {case.code: case for case in Case.objects.restrict(self.user, "view").filter(code__in=codes)}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise ValidationError(
                _("涉及案件编号 %(codes)s 不存在或您无权查看，请核对。") % {"codes": "、".join(unknown[:5])},
                code="invalid_case",
            )
        return [found[code] for code in codes]


class SummonsAnswerForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("答复"),
        coerce=lambda value: value == "1",
        choices=[("1", _("接受约请，牵头处理")), ("0", _("说明情况"))],
    )
    answer = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        finish_form(self)


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
        finish_form(self)


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
