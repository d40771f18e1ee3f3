from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shequ.cases import public
from shequ.core.views import AuditList
from shequ.registry import tree

urlpatterns = [
    # Signed in: the staff home page (tree.HomeView); anyone else: the residents' report page.
    path("", public.home, name="home"),
    path("", tree.HomeView.as_view(), name="home"),
    path("units/", tree.UnitTreeView.as_view(), name="unit-tree"),
    path("search/", tree.PlaceSearchView.as_view(), name="place-search"),
    path("audit/", AuditList.as_view(), name="audit-list"),
    path("", include("shequ.core.urls")),
    path("", include("shequ.org.urls")),
    path("units/<str:code>/", tree.UnitDetailView.as_view(), name="unit-detail"),
    path("", include("shequ.registry.urls")),
    path("", include("shequ.cases.urls")),
    path("api/v1/", include("shequ.api_urls", namespace="api")),
    # Open311 GeoReport v2 (X6): production, and a sandbox where a POST keeps nothing.
    path("open311/v2/", include("shequ.cases.open311_urls", namespace="open311")),
    path(
        "open311/sandbox/v2/",
        include("shequ.cases.open311_urls", namespace="open311-sandbox"),
        {"sandbox": True},
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
