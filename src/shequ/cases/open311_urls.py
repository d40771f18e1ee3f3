"""Open311 GeoReport v2 endpoints, each in .json and .xml. Included twice by shequ/urls.py: at
open311/v2/ (namespace "open311") and at open311/sandbox/v2/ (namespace "open311-sandbox", with
sandbox=True, where a POST keeps nothing)."""

from django.urls import re_path

from . import open311

app_name = "open311"

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(rf"^discovery{FORMAT}", open311.DiscoveryView.as_view(), name="discovery"),
    re_path(rf"^services{FORMAT}", open311.ServiceListView.as_view(), name="services"),
    re_path(
        rf"^services/(?P<service_code>[^/]+?){FORMAT}",
        open311.ServiceDefinitionView.as_view(),
        name="service-definition",
    ),
    re_path(rf"^requests{FORMAT}", open311.RequestsView.as_view(), name="requests"),
    re_path(
        rf"^requests/(?P<service_request_id>[^/]+?){FORMAT}",
        open311.RequestDetailView.as_view(),
        name="request-detail",
    ),
    re_path(rf"^tokens/(?P<token>[^/]+?){FORMAT}", open311.TokenView.as_view(), name="token"),
]
