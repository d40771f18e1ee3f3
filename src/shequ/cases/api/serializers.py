from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core.api import ScopedSlugRelatedField, VersionedSerializer
from shequ.org.models import Unit
from shequ.registry.models import BuildingGroup, Estate, Grid

from ..choices import Rating, RatingChannel, Source, Urgency
from ..models import Case, CaseEvent, Category, ResponsibilityRule, Summons


def unit_field(label, **kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all(), label=label, **kwargs)


class CategorySerializer(VersionedSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(parent__isnull=True),
        required=False,
        allow_null=True,
        label=_("大类编码"),
    )

    class Meta:
        model = Category
        fields = ["id", "code", "name", "kind", "parent", "description", "attributes", "is_active", "version"]


class RuleSerializer(VersionedSerializer):
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), label=_("类别编码")
    )
    scope = unit_field(_("适用范围单位代码"))
    responsible_unit = unit_field(_("责任单位代码"), required=False, allow_null=True)

    class Meta:
        model = ResponsibilityRule
        fields = [
            "id",
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
            "version",
        ]


class CaseEventSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["action", "stage_from", "stage_to", "actor_name", "unit", "note", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    """A case as the API shows it: the reporter masked, the timeline on the detail."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    dispatcher = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "code",
            "source",
            "category",
            "description",
            "urgency",
            "unit",
            "estate",
            "building_group",
            "grid",
            "address",
            "latitude",
            "longitude",
            "reporter_name_masked",
            "reporter_phone_masked",
            "stage",
            "dispatcher",
            "assignee",
            "parent",
            "reported_at",
            "stage_started_at",
            "stage_deadline",
            "handle_deadline",
            "warned",
            "overdue",
            "handled_late",
            "closed_at",
            "result",
            "rating",
            "rating_comment",
            "reopen_count",
            "return_count",
            "version",
        ]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    events = CaseEventSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events"]
        read_only_fields = fields


class IntakeSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Source.choices, default=Source.GRID_PATROL, label=_("来源"))
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.filter(is_active=True), label=_("类别编码")
    )
    description = serializers.CharField(max_length=2000, label=_("问题描述"))
    unit = unit_field(_("居民区或街道代码"))
    estate = serializers.PrimaryKeyRelatedField(
        queryset=Estate.objects.all(), required=False, allow_null=True
    )
    building_group = serializers.PrimaryKeyRelatedField(
        queryset=BuildingGroup.objects.all(), required=False, allow_null=True
    )
    grid = serializers.PrimaryKeyRelatedField(queryset=Grid.objects.all(), required=False, allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    reporter_name = serializers.CharField(max_length=40, required=False, allow_blank=True, write_only=True)
    reporter_phone = serializers.CharField(max_length=24, required=False, allow_blank=True, write_only=True)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, label=_("说明"))


class ReasonSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, label=_("理由"))


class DispatchSerializer(NoteSerializer):
    assignee = unit_field(_("承办单位代码"))
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, label=_("不按职责清单派遣的理由")
    )


class FeedbackSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=2000, label=_("处置结果"))


class VerifySerializer(NoteSerializer):
    passed = serializers.BooleanField(label=_("核查通过"))


class RateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)
    channel = serializers.ChoiceField(choices=RatingChannel.choices, default=RatingChannel.PHONE)


class MergeSerializer(serializers.Serializer):
    parent = ScopedSlugRelatedField(model=Case, slug_field="code", label=_("合并至案件编号"))


class SuperviseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    days = serializers.IntegerField(min_value=1, max_value=30, default=2)


class SummonsSerializer(serializers.ModelSerializer):
    street = unit_field(_("约请街道代码"))
    department = unit_field(_("被约请部门代码"))
    cases = ScopedSlugRelatedField(model=Case, slug_field="code", many=True, required=False)

    class Meta:
        model = Summons
        fields = [
            "id",
            "code",
            "street",
            "department",
            "cases",
            "reason",
            "request",
            "response_days",
            "response_deadline",
            "meeting_at",
            "status",
            "answer",
            "answered_at",
            "answered_on_time",
            "outcome",
            "rating_timeliness",
            "rating_result",
            "closed_at",
            "created_at",
        ]
        read_only_fields = [
            "code",
            "response_deadline",
            "status",
            "answer",
            "answered_at",
            "answered_on_time",
            "outcome",
            "rating_timeliness",
            "rating_result",
            "closed_at",
            "created_at",
        ]


class SummonsAnswerSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    answer = serializers.CharField(max_length=4000)


class SummonsCloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=4000)
    rating_timeliness = serializers.IntegerField(min_value=1, max_value=5)
    rating_result = serializers.IntegerField(min_value=1, max_value=5)
