"""API ground shared by every app: the scoped base viewset and an exception handler that turns model
validation and conflicts into 400/409 responses with the same Chinese messages as the pages."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .audit import ConflictError
from .scoping import grant_label


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
        if not request.user.can(self.scope_label or grant_label(self.model), self.grant_action()):
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
