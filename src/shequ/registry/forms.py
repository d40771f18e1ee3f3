from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.core.forms import ScopedModelForm, style_widgets
from shequ.org.choices import STREET_KINDS, UnitKind

from .choices import ResidentStatus
from .models import Block, BlockMember, Building, BuildingGroup, Estate, Grid, Resident, ResidentTag


class EstateForm(ScopedModelForm):
    class Meta:
        model = Estate
        fields = ["name", "unit", "address", "housing_type", "built_year", "households", "floor_area"]
        labels = {"unit": _("居民区")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = self.fields["unit"].queryset.filter(kind=UnitKind.NEIGHBORHOOD)


class BuildingForm(ScopedModelForm):
    class Meta:
        model = Building
        fields = ["estate", "number", "address", "floors", "households", "has_elevator"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = self.fields["estate"].queryset.select_related("unit")


class BuildingGroupForm(ScopedModelForm):
    class Meta:
        model = BuildingGroup
        fields = ["building", "name", "households", "leader_name", "note"]

    def __init__(self, *args, estate=None, **kwargs):
        super().__init__(*args, **kwargs)
        buildings = self.fields["building"].queryset.select_related("estate")
        # A district has tens of thousands of buildings: offer those of one estate when it is known.
        estate_id = estate or (self.instance.building.estate_id if self.instance.pk else None)
        if estate_id:
            buildings = buildings.filter(estate_id=estate_id)
        self.fields["building"].queryset = buildings


class _StreetOwnedForm(ScopedModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = self.fields["unit"].queryset.filter(kind__in=STREET_KINDS)
        self.fields["unit"].label = _("所属街道/镇")
        self.fields["neighborhoods"].queryset = self.fields["neighborhoods"].queryset.filter(
            kind=UnitKind.NEIGHBORHOOD
        )


class GridForm(_StreetOwnedForm):
    class Meta:
        model = Grid
        fields = ["code", "name", "unit", "neighborhoods", "description"]


class BlockForm(_StreetOwnedForm):
    class Meta:
        model = Block
        fields = ["name", "unit", "neighborhoods", "description"]


class BlockMemberForm(forms.ModelForm):
    class Meta:
        model = BlockMember
        fields = ["name", "kind", "address"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)

    def _post_clean(self):
        pass  # validated by the service, like ScopedModelForm


class ResidentForm(ScopedModelForm):
    """ID and phone numbers are typed in clear and stored encrypted. Editing shows only the masked
    values: an empty box keeps the stored number, a new one replaces it."""

    id_number = forms.CharField(label=_("证件号码"), required=False, max_length=40)
    phone = forms.CharField(label=_("电话"), required=False, max_length=24)
    is_head = forms.BooleanField(label=_("户主"), required=False)

    class Meta:
        model = Resident
        fields = [
            "name",
            "document_type",
            "id_number",
            "gender",
            "birth_date",
            "phone",
            "unit",
            "building_group",
            "room",
            "is_head",
            "residence_type",
            "separated",
            "tags",
            "moved_in_on",
            "note",
        ]
        labels = {"unit": _("居民区")}
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "moved_in_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "tags": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = self.fields["unit"].queryset.filter(kind=UnitKind.NEIGHBORHOOD)
        self.fields["tags"].queryset = self.fields["tags"].queryset.filter(is_active=True)
        groups = self.fields["building_group"].queryset.select_related("building__estate")
        area = self.instance.unit_id if self.instance.pk else self.initial.get("unit")
        # A district has ~20,000 building groups: offer those of the resident's area.
        self.fields["building_group"].queryset = groups.filter(unit_id=area) if area else groups.none()
        self.fields["building_group"].required = False
        if self.instance.pk:
            self.fields["id_number"].help_text = _("当前：%(masked)s；留空则不修改。") % {
                "masked": self.instance.id_masked or "—"
            }
            self.fields["phone"].help_text = _("当前：%(masked)s；留空则不修改。") % {
                "masked": self.instance.phone_masked or "—"
            }
            self.fields["is_head"].initial = bool(
                self.instance.household_id and self.instance.household.head_id == self.instance.pk
            )
        self.fields["gender"].help_text = _("有居民身份证号码时由号码自动得出。")
        self.fields["birth_date"].help_text = _("有居民身份证号码时由号码自动得出。")

    def personal_values(self) -> dict:
        """What to pass to the service: None leaves a stored number as it is."""
        values = {}
        for name in ("id_number", "phone"):
            typed = self.cleaned_data.get(name, "")
            values[name] = typed if (typed or not self.instance.pk) else None
        return values


class EndResidenceForm(forms.Form):
    status = forms.ChoiceField(
        label=_("变动类型"),
        choices=[(ResidentStatus.MOVED_OUT, _("迁出")), (ResidentStatus.DECEASED, _("死亡"))],
    )
    on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("原因"), max_length=500)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class RevealForm(forms.Form):
    fields_to_reveal = forms.MultipleChoiceField(
        label=_("查看"),
        choices=[("id_number", _("证件号码")), ("phone", _("电话"))],
        widget=forms.CheckboxSelectMultiple,
        initial=["id_number", "phone"],
    )
    reason = forms.CharField(
        label=_("查看原因"),
        min_length=2,
        max_length=500,
        help_text=_("将记录查看人、时间和原因，供区地区办核查。"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class ResidentTagForm(ScopedModelForm):
    class Meta:
        model = ResidentTag
        fields = ["code", "name", "description", "is_active"]
