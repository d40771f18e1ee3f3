from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core.api import VersionedSerializer
from shequ.org.models import Unit

from ..models import Block, BlockMember, Building, BuildingGroup, Estate, Grid, Resident, ResidentTag


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


class ResidentSerializer(VersionedSerializer):
    """Residents as the API shows them: masked ID and phone only. Writes take the numbers in clear
    (`id_number`, `phone`, write-only) and store them encrypted; omit them to leave them unchanged."""

    unit = unit_field(_("居民区代码"))
    id_number = serializers.CharField(write_only=True, required=False, allow_blank=True, label=_("证件号码"))
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, label=_("电话"))
    tags = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=ResidentTag.objects.filter(is_active=True),
        label=_("标签代码"),
    )
    age = serializers.IntegerField(read_only=True)

    class Meta:
        model = Resident
        fields = [
            "id",
            "name",
            "gender",
            "birth_date",
            "age",
            "document_type",
            "id_number",
            "id_masked",
            "phone",
            "phone_masked",
            "unit",
            "building_group",
            "room",
            "household",
            "residence_type",
            "separated",
            "tags",
            "status",
            "moved_in_on",
            "status_changed_on",
            "note",
            "version",
        ]
        read_only_fields = ["id_masked", "phone_masked", "household", "status", "status_changed_on"]


class RevealRequestSerializer(serializers.Serializer):
    fields = serializers.MultipleChoiceField(
        choices=["id_number", "phone"], required=False, default=["id_number", "phone"]
    )
    reason = serializers.CharField(label=_("查看原因"))


class RevealResponseSerializer(serializers.Serializer):
    id_number = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
