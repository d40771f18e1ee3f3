from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from shequ.core.api import ScopedWriteViewSet

from .. import services
from ..choices import UnitKind
from ..filters import DepartmentFilter, UnitFilter
from ..models import Unit
from .serializers import DepartmentSerializer, TokenRequestSerializer, TokenResponseSerializer, UnitSerializer


class TokenView(APIView):
    """Exchange a username and password for an API token. Failures count towards the same lockout as
    the login page (django-axes), and the endpoint is rate-limited."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer}, auth=[])
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            return Response({"detail": _("用户名或密码不正确。")}, status=status.HTTP_400_BAD_REQUEST)
        _instance, token = AuthToken.objects.create(user=user)
        return Response({"token": token})


class UnitViewSet(ScopedWriteViewSet):
    """The unit tree: the district, streets and town, residential areas."""

    model = Unit
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    ordering_fields = ["code", "name", "path"]
    lookup_field = "code"

    def base_queryset(self):
        return Unit.objects.exclude(kind=UnitKind.DEPARTMENT).select_related("parent").order_by("path")

    def create_record(self, data):
        return services.create_unit(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_unit(
            actor=self.request.user, unit=instance, changes=data, expected_version=expected_version
        )


class DepartmentViewSet(ScopedWriteViewSet):
    """District departments (区职能部门), the units cases are dispatched to."""

    model = Unit
    scope_label = "org.department"
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    ordering_fields = ["code", "name"]
    lookup_field = "code"

    def base_queryset(self):
        return Unit.objects.filter(kind=UnitKind.DEPARTMENT).order_by("code")

    def create_record(self, data):
        return services.create_department(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_unit(
            actor=self.request.user, unit=instance, changes=data, expected_version=expected_version
        )
