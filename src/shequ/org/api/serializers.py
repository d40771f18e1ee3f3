from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shequ.core.api import VersionedSerializer

from ..models import Unit


class UnitSerializer(VersionedSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Unit.objects.all(),
        required=False,
        allow_null=True,
        label=_("上级单位代码"),
    )

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "parent", "path", "address", "phone", "is_active", "version"]
        read_only_fields = ["path"]


class DepartmentSerializer(VersionedSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "address", "phone", "is_active", "version"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"))
    password = serializers.CharField(label=_("密码"), style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
