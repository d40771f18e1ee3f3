"""/api/v1/: one router for every app's viewsets, so that the API has a single browsable root."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from shequ.org.api.views import DepartmentViewSet, TokenView, UnitViewSet
from shequ.registry.api.views import (
    BlockViewSet,
    BuildingGroupViewSet,
    BuildingViewSet,
    EstateViewSet,
    GridViewSet,
)

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("departments", DepartmentViewSet, basename="department")
router.register("estates", EstateViewSet, basename="estate")
router.register("buildings", BuildingViewSet, basename="building")
router.register("building-groups", BuildingGroupViewSet, basename="buildinggroup")
router.register("grids", GridViewSet, basename="grid")
router.register("blocks", BlockViewSet, basename="block")

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    *router.urls,
]
