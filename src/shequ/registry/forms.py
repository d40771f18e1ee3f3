from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.core.forms import ScopedModelForm, style_widgets
from shequ.org.choices import STREET_KINDS, UnitKind

from .models import Block, BlockMember, Building, BuildingGroup, Estate, Grid


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
