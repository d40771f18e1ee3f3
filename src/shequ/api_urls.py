"""/api/v1/: one router for every app's viewsets, so that the API has a single browsable root."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from shequ.cases.api.views import CaseViewSet, CategoryViewSet, RuleViewSet, SummonsViewSet
from shequ.core.api import ExcelExportView, ExcelTemplateView, ImportJobViewSet
from shequ.org.api.views import DepartmentViewSet, TokenView, UnitViewSet
from shequ.registry.api.views import (
    BlockViewSet,
    BuildingGroupViewSet,
    BuildingViewSet,
    EstateViewSet,
    GridViewSet,
    ResidentViewSet,
)

router = DefaultRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("categories", CategoryViewSet, basename="category")
router.register("responsibility-rules", RuleViewSet, basename="rule")
router.register("summons", SummonsViewSet, basename="summons")
router.register("units", UnitViewSet, basename="unit")
router.register("departments", DepartmentViewSet, basename="department")
router.register("estates", EstateViewSet, basename="estate")
router.register("buildings", BuildingViewSet, basename="building")
router.register("building-groups", BuildingGroupViewSet, basename="buildinggroup")
router.register("grids", GridViewSet, basename="grid")
router.register("blocks", BlockViewSet, basename="block")
router.register("residents", ResidentViewSet, basename="resident")
router.register("imports", ImportJobViewSet, basename="import")

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("exports/<slug:register>/", ExcelExportView.as_view(), name="excel-export"),
    path("templates/<slug:register>/", ExcelTemplateView.as_view(), name="excel-template"),
    *router.urls,
]
