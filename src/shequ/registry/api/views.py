from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from shequ.core.api import ScopedWriteViewSet

from .. import services
from ..filters import (
    BlockFilter,
    BuildingFilter,
    BuildingGroupFilter,
    EstateFilter,
    GridFilter,
    ResidentFilter,
)
from ..models import Block, Building, BuildingGroup, Estate, Grid, Resident
from .serializers import (
    BlockSerializer,
    BuildingGroupSerializer,
    BuildingSerializer,
    EstateSerializer,
    GridSerializer,
    ResidentSerializer,
    RevealRequestSerializer,
    RevealResponseSerializer,
)


class EstateViewSet(ScopedWriteViewSet):
    model = Estate
    serializer_class = EstateSerializer
    filterset_class = EstateFilter
    ordering_fields = ["name", "built_year", "households"]

    def base_queryset(self):
        return Estate.objects.select_related("unit").order_by("unit__path", "name")

    def create_record(self, data):
        return services.create_estate(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_estate(
            actor=self.request.user, estate=instance, changes=data, expected_version=expected_version
        )


class BuildingViewSet(ScopedWriteViewSet):
    model = Building
    serializer_class = BuildingSerializer
    filterset_class = BuildingFilter
    ordering_fields = ["number", "households"]

    def base_queryset(self):
        return Building.objects.select_related("unit").order_by("estate_id", "number")

    def create_record(self, data):
        return services.create_building(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_building(
            actor=self.request.user, building=instance, changes=data, expected_version=expected_version
        )


class BuildingGroupViewSet(ScopedWriteViewSet):
    model = BuildingGroup
    serializer_class = BuildingGroupSerializer
    filterset_class = BuildingGroupFilter
    ordering_fields = ["name", "households"]

    def base_queryset(self):
        return BuildingGroup.objects.select_related("unit").order_by("building_id", "name")

    def create_record(self, data):
        return services.create_building_group(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_building_group(
            actor=self.request.user, group=instance, changes=data, expected_version=expected_version
        )


class GridViewSet(ScopedWriteViewSet):
    model = Grid
    serializer_class = GridSerializer
    filterset_class = GridFilter
    ordering_fields = ["code", "name"]

    def base_queryset(self):
        return Grid.objects.select_related("unit").prefetch_related("neighborhoods").order_by("code")

    def create_record(self, data):
        return services.create_grid(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        neighborhoods = data.pop("neighborhoods", None)
        return services.update_grid(
            actor=self.request.user,
            grid=instance,
            changes=data,
            neighborhoods=neighborhoods,
            expected_version=expected_version,
        )


class BlockViewSet(ScopedWriteViewSet):
    model = Block
    serializer_class = BlockSerializer
    filterset_class = BlockFilter
    ordering_fields = ["name"]

    def base_queryset(self):
        return (
            Block.objects.select_related("unit").prefetch_related("neighborhoods", "members").order_by("name")
        )

    def create_record(self, data):
        return services.create_block(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        neighborhoods = data.pop("neighborhoods", None)
        return services.update_block(
            actor=self.request.user,
            block=instance,
            changes=data,
            neighborhoods=neighborhoods,
            expected_version=expected_version,
        )


class ResidentViewSet(ScopedWriteViewSet):
    """Residents, masked. `POST /api/v1/residents/{id}/reveal/` with a reason returns the full values
    to a role that may reveal them, and logs the access."""

    model = Resident
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilter
    ordering_fields = ["name", "birth_date"]
    action_map_to_grant = {**ScopedWriteViewSet.action_map_to_grant, "reveal": "reveal"}

    def base_queryset(self):
        return (
            Resident.objects.select_related("unit")
            .prefetch_related("tags")
            .order_by("unit__path", "name", "id")
        )

    def create_record(self, data):
        return services.create_resident(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        personal = {name: data.pop(name) for name in ("id_number", "phone") if name in data}
        tags = data.pop("tags", None)
        return services.update_resident(
            actor=self.request.user,
            resident=instance,
            changes=data,
            tags=tags,
            expected_version=expected_version,
            **personal,
        )

    @extend_schema(request=RevealRequestSerializer, responses={200: RevealResponseSerializer})
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        resident = self.get_object()
        serializer = RevealRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = services.reveal_personal_data(
            actor=request.user,
            resident=resident,
            fields=sorted(serializer.validated_data["fields"]),
            reason=serializer.validated_data["reason"],
        )
        return Response(values, headers={"Cache-Control": "no-store"})
