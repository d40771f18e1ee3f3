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
    values: an empty box keeps the stored number, a new one replaces it.

    The place is picked area → estate → building → building group, each list narrowed by the one before
    (core.forms.ScopedModelForm.picker_fields); estate and building only narrow, the resident stores the
    building group (and the area)."""

    picker_fields = ("unit", "estate", "building", "building_group")

    id_number = forms.CharField(label=_("证件号码"), required=False, max_length=40)
    phone = forms.CharField(label=_("电话"), required=False, max_length=24)
    estate = forms.ModelChoiceField(label=_("小区"), queryset=Estate.objects.all(), required=False)
    building = forms.ModelChoiceField(label=_("楼栋"), queryset=Building.objects.all(), required=False)
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
            "estate",
            "building",
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
        if self.instance.pk and self.instance.building_group_id and not self.is_bound:
            building = self.instance.building_group.building
            self.initial.setdefault("building", building.pk)
            self.initial.setdefault("estate", building.estate_id)
        self.fields["unit"].queryset = self.fields["unit"].queryset.filter(kind=UnitKind.NEIGHBORHOOD)
        self.preselect_single_choices(["unit"])
        self.fields["tags"].queryset = self.fields["tags"].queryset.filter(is_active=True)
        # A district has ~20,000 building groups: each picker offers what lies in the one before it.
        area = self.current("unit")
        estates = self.fields["estate"].queryset
        self.fields["estate"].queryset = estates.filter(unit_id=area) if area else estates.none()
        estate = self.current("estate")
        buildings = self.fields["building"].queryset.select_related("estate")
        if estate:
            buildings = buildings.filter(estate_id=estate)
        self.fields["building"].queryset = buildings.filter(unit_id=area) if area else buildings.none()
        building = self.current("building")
        groups = self.fields["building_group"].queryset.select_related("building__estate")
        if building:
            groups = groups.filter(building_id=building)
        elif estate:
            groups = groups.filter(building__estate_id=estate)
        self.fields["building_group"].queryset = groups.filter(unit_id=area) if area else groups.none()
        self.fields["building_group"].required = False
        self.preselect_single_choices(["estate", "building"])
        if not area:
            for name in ("estate", "building", "building_group"):
                self.fields[name].help_text = _("请先选择居民区。")
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
    """Only here does a tag's code show: the district office keeps the list, and Excel files and the API
    name tags by code. Everywhere else a tag is its name."""

    class Meta:
        model = ResidentTag
        fields = ["code", "name", "description", "is_active"]
        labels = {"code": _("代码")}
