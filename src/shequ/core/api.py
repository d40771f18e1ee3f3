"""API ground shared by every app: the scoped base viewset and an exception handler that turns model
validation and conflicts into 400/409 responses with the same Chinese messages as the pages."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import excel
from .audit import ConflictError
from .models import ImportJob
from .scoping import user_may


def exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class ScopedViewSet(viewsets.GenericViewSet):
    """Every API viewset starts here. The queryset is always `restrict(user, action)`: reads use
    'view', updates 'change', deletes 'delete'. A record out of scope is a 404, like a missing one.
    Creating needs the 'add' grant somewhere (403 otherwise); where the new record lands is checked by
    the service after the write."""

    model = None
    scope_label = None  # as on the page views: the grant checked for 'add' when not the model's
    action_map_to_grant = {
        "list": "view",
        "retrieve": "view",
        "create": "add",
        "update": "change",
        "partial_update": "change",
        "destroy": "delete",
    }

    def grant_action(self) -> str:
        return self.action_map_to_grant.get(self.action, "view")

    def get_queryset(self):
        return self.base_queryset().restrict(self.request.user, self.grant_action())

    def base_queryset(self):
        return self.model.objects.all()

    def check_permissions(self, request):
        """A role with no grant for the action at all gets 403 (as on the pages); a record outside the
        user's scope is then a 404 from the restricted queryset."""
        super().check_permissions(request)
        if self.action is None:  # OPTIONS and unsupported methods
            return
        if not user_may(request.user, self.model, self.grant_action(), self.scope_label):
            self.permission_denied(request, message=_("您的岗位无权进行此操作。"))


class ScopedWriteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Reads and writes; every write is one service call (the same one the pages use). Subclasses
    implement `create_record(data)` and `update_record(instance, data, expected_version)`."""

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = self.create_record(data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        expected_version = data.pop("version", None)
        serializer.instance = self.update_record(serializer.instance, data, expected_version)

    def create_record(self, data):
        raise NotImplementedError

    def update_record(self, instance, data, expected_version):
        raise NotImplementedError


class VersionedSerializer(serializers.ModelSerializer):
    """`version` is read with the record and may be sent back with an update: if the record changed
    in between, the update is refused with 409 instead of overwriting the other change."""

    version = serializers.IntegerField(required=False)

    def get_validators(self):
        # Uniqueness is checked by the model in the service, inside its transaction, with the model's
        # own Chinese message; DRF's unique-together check would run outside it with a generic one.
        return []


# Excel import and export (X4): the same core.excel services as the pages and the command -------------


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A related record named by its natural key, looked up only among the records the requesting user
    may see with `action` (DESIGN.md: every related record a write names is in scope). A missing and a
    forbidden key get the same message, which repeats only what was sent."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("“{value}”不存在或您无权查看。"),
        "invalid": gettext_lazy("值无效。"),
    }

    def __init__(self, *, model, action: str = "view", **kwargs):
        self.model = model
        self.action = action
        kwargs.setdefault("queryset", model.objects.none())  # replaced per request below
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.model.objects.none()
        return self.model.objects.restrict(user, self.action)


class ImportJobSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True)
    progress = serializers.SerializerMethodField()
    audit_request_id = serializers.CharField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "register",
            "original_name",
            "user",
            "status",
            "status_display",
            "message",
            "rows_total",
            "rows_checked",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_written",
            "error_count",
            "errors",
            "progress",
            "audit_request_id",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "rows_checked": {"type": "integer"},
                "rows_written": {"type": "integer"},
                "rows_total": {"type": "integer", "nullable": True},
                "rate": {"type": "integer", "nullable": True, "description": "每秒行数（进行中）"},
                "seconds_left": {
                    "type": "integer",
                    "nullable": True,
                    "description": "预计剩余秒数（进行中）",
                },
            },
        }
    )
    def get_progress(self, job: ImportJob) -> dict:
        return excel.read_progress(job)


class ImportUploadSerializer(serializers.Serializer):
    register = serializers.CharField(
        help_text=gettext_lazy("登记簿：units、departments、estates、buildings、building-groups、grids")
    )
    file = serializers.FileField(help_text=gettext_lazy("按导入模板填写的 .xlsx 文件"))


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Excel imports. Upload a file (multipart: register, file) and the job checks it; read the job for
    its status, counts and problems (row, column, message); commit it once its status is "checked"."""

    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering_fields = ["created_at", "status"]

    def get_queryset(self):
        action = "change" if self.action == "commit" else "view"
        return ImportJob.objects.restrict(self.request.user, action).select_related("user")

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportJobSerializer}
    )
    def create(self, request):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            job = excel.start_import(user=request.user, register_name=data["register"], upload=data["file"])
        except Http404:
            raise exceptions.ValidationError({"register": [_("没有这个登记簿。")]}) from None
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"file": error.messages}) from None
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        """确认导入: the job's owner only, once its check passed; the commit writes all rows or none."""
        job = self.get_object()
        try:
            job = excel.request_commit(user=request.user, job=job)
        except DjangoValidationError as error:
            return Response({"detail": " ".join(error.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)


XLSX_RESPONSE = {(200, excel.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}


class ExcelExportView(APIView):
    """The rows of a register the user may view, narrowed by the same filters as its list endpoint
    (e.g. ?street=310106006&housing_type=commercial), as an .xlsx file."""

    @extend_schema(responses=XLSX_RESPONSE)
    def get(self, request, register):
        register_ = excel.get_register(register)
        try:
            return excel.export_response(
                register_, user=request.user, params=request.query_params, request=request
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"detail": error.messages}) from None


class ExcelTemplateView(APIView):
    """The import template of a register: header, example row, drop-downs, and a 说明 sheet."""

    @extend_schema(responses=XLSX_RESPONSE)
    def get(self, request, register):
        register_ = excel.get_register(register)
        excel.check_access(register_, request.user, "add")
        return excel.template_response(register_)
