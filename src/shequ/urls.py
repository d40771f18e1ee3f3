from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shequ.core.views import AuditList
from shequ.registry import tree

urlpatterns = [
    path("", tree.HomeView.as_view(), name="home"),
    path("units/", tree.UnitTreeView.as_view(), name="unit-tree"),
    path("search/", tree.PlaceSearchView.as_view(), name="place-search"),
    path("audit/", AuditList.as_view(), name="audit-list"),
    path("", include("shequ.org.urls")),
    path("units/<str:code>/", tree.UnitDetailView.as_view(), name="unit-detail"),
    path("", include("shequ.registry.urls")),
    path("api/v1/", include("shequ.api_urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
