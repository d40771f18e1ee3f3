from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core.api import VersionedSerializer
from shequ.org.models import Unit

from ..models import Block, BlockMember, Building, BuildingGroup, Estate, Grid


def unit_field(label, **kwargs):
    """Units are referred to by their statistical code."""
    return serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all(), label=label, **kwargs)


class EstateSerializer(VersionedSerializer):
    unit = unit_field(_("居民区代码"))
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Estate
        fields = [
            "id",
            "name",
            "unit",
            "unit_name",
            "address",
            "housing_type",
            "built_year",
            "households",
            "floor_area",
            "version",
            "created_at",
            "updated_at",
        ]


class BuildingSerializer(VersionedSerializer):
    estate = serializers.PrimaryKeyRelatedField(queryset=Estate.objects.all(), label=_("小区编号"))
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Building
        fields = [
            "id",
            "estate",
            "number",
            "unit",
            "address",
            "floors",
            "households",
            "has_elevator",
            "version",
        ]


class BuildingGroupSerializer(VersionedSerializer):
    building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.all(), label=_("楼栋编号"))
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = BuildingGroup
        fields = ["id", "building", "name", "unit", "households", "leader_name", "note", "version"]


class GridSerializer(VersionedSerializer):
    unit = unit_field(_("街道/镇代码"))
    neighborhoods = unit_field(_("覆盖居民区代码"), many=True, required=False)

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "unit", "neighborhoods", "description", "version"]


class BlockMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = BlockMember
        fields = ["id", "name", "kind", "address"]


class BlockSerializer(VersionedSerializer):
    unit = unit_field(_("街道/镇代码"))
    neighborhoods = unit_field(_("包含居民区代码"), many=True, required=False)
    members = BlockMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Block
        fields = ["id", "name", "unit", "neighborhoods", "description", "members", "version"]
