"""The REST API: token auth (stored hashed), scoped lists and details, writes through the services,
409 on a stale version, and a valid OpenAPI 3 schema."""

import pytest
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from knox.models import AuthToken
from rest_framework.test import APIClient

from shequ.core.models import AuditEntry
from shequ.registry.models import Estate

PASSWORD = "shequ-demo-2025"


@pytest.fixture
def api():
    return APIClient()


def token_for(api, username):
    response = api.post(reverse("api:token"), {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_a_token_is_issued_for_a_password_and_stored_hashed(world, api):
    token = token_for(api, "jiangning")
    stored = AuthToken.objects.get(user__username="jiangning")
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) >= 64


def test_a_wrong_password_gets_no_token(world, api):
    response = api.post(reverse("api:token"), {"username": "jiangning", "password": "wrong"}, format="json")
    assert response.status_code == 400 and "不正确" in response.json()["detail"]


def test_with_a_token_jiangning_sees_its_sixteen_areas_and_nothing_of_shimen(world, api):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(api, 'jiangning')}")
    response = api.get(reverse("api:unit-list"), {"kind": "neighborhood", "page_size": 100})
    body = response.json()
    assert body["count"] == 16
    assert all(row["code"].startswith("310106006") for row in body["results"])
    assert api.get(reverse("api:unit-detail", args=["310106011"])).status_code == 404
    assert api.get(reverse("api:estate-detail", args=[world.sm.estate.pk])).status_code == 404


def test_lists_are_paginated_with_a_count(world, api):
    api.force_authenticate(world.user("admin"))
    body = api.get(reverse("api:unit-list")).json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 1 + 14 + 267


def test_filters_narrow_the_list(world, api):
    api.force_authenticate(world.user("admin"))
    body = api.get(reverse("api:estate-list"), {"street": "310106011"}).json()
    assert [row["name"] for row in body["results"]] == [world.sm.estate.name]


def test_creating_through_the_api_uses_the_service_and_is_audited(world, api):
    api.force_authenticate(world.user("jiangning"))
    response = api.post(
        reverse("api:estate-list"),
        {"name": "API小区", "unit": "310106006002", "housing_type": "commercial", "households": 50},
        format="json",
    )
    assert response.status_code == 201, response.content
    estate = Estate.objects.get(name="API小区")
    assert (
        AuditEntry.objects.filter(
            object_id=str(estate.pk), content_type__model="estate", action="create"
        ).count()
        == 1
    )


def test_a_street_user_cannot_move_an_estate_into_another_street_through_the_api(world, api):
    api.force_authenticate(world.user("jiangning"))
    url = reverse("api:estate-detail", args=[world.jn.estate.pk])
    response = api.patch(url, {"unit": world.sm.area.code}, format="json")
    assert response.status_code == 403
    assert Estate.objects.get(pk=world.jn.estate.pk).unit == world.jn.area
    assert not AuditEntry.objects.filter(
        object_id=str(world.jn.estate.pk), content_type__model="estate", action="update"
    ).exists()


def test_creating_in_another_street_is_refused(world, api):
    api.force_authenticate(world.user("jiangning"))
    response = api.post(
        reverse("api:estate-list"),
        {"name": "越界", "unit": world.sm.area.code, "housing_type": "lane"},
        format="json",
    )
    assert response.status_code == 403
    assert not Estate.objects.filter(name="越界").exists()


def test_validation_errors_come_back_in_chinese(world, api):
    api.force_authenticate(world.user("jiangning"))
    response = api.post(
        reverse("api:estate-list"),
        {"name": world.jn.estate.name, "unit": "310106006002", "housing_type": "lane"},
        format="json",
    )
    assert response.status_code == 400
    assert "同名小区" in str(response.json())


def test_a_stale_version_gets_409(world, api):
    api.force_authenticate(world.user("jiangning"))
    url = reverse("api:estate-detail", args=[world.jn.estate.pk])
    version = api.get(url).json()["version"]
    assert api.patch(url, {"households": 1, "version": version}, format="json").status_code == 200
    response = api.patch(url, {"households": 2, "version": version}, format="json")
    assert response.status_code == 409 and "已被他人修改" in response.json()["detail"]
    assert Estate.objects.get(pk=world.jn.estate.pk).households == 1


def test_the_schema_is_a_valid_openapi_3_document(world, api):
    response = api.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/estates/" in schema["paths"] and "/api/v1/auth/token/" in schema["paths"]


def test_swagger_ui_is_served_from_our_own_origin(world, client):
    content = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in content
    assert "cdn" not in content.lower() and "<script>" not in content
