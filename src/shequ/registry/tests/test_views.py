"""Registry pages: forms call the services, errors come back in Chinese, lists filter and paginate
through htmx, and list pages cost the same number of queries however many rows they hold."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shequ.core.models import AuditEntry
from shequ.registry import services
from shequ.registry.models import Building, BuildingGroup, Estate


def estate_form(estate, **overrides):
    data = {
        "name": estate.name,
        "unit": estate.unit_id,
        "address": estate.address,
        "housing_type": estate.housing_type,
        "built_year": estate.built_year or "",
        "households": estate.households,
        "floor_area": "",
        "version": estate.version,
        "reason": "",
    }
    return {**data, **overrides}


def test_editing_an_estate_through_the_page_writes_it_and_its_audit_entry(world, client):
    client.force_login(world.user("jiangning"))
    estate = world.jn.estate
    response = client.post(
        reverse("estate-edit", args=[estate.pk]), estate_form(estate, households=456, reason="入户核实")
    )
    assert response.status_code == 302
    estate.refresh_from_db()
    assert estate.households == 456
    entry = AuditEntry.objects.filter(
        object_id=str(estate.pk), content_type__model="estate", action="update"
    ).get()
    assert entry.reason == "入户核实" and entry.request_id


def test_a_street_user_cannot_move_an_estate_into_another_street_through_the_page(world, client):
    client.force_login(world.user("jiangning"))
    estate = world.jn.estate
    response = client.post(
        reverse("estate-edit", args=[estate.pk]), estate_form(estate, unit=world.sm.area.pk)
    )
    # The other street's area is not among the choices: the form refuses it, nothing is written.
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    estate.refresh_from_db()
    assert estate.unit == world.jn.area


def test_a_stale_form_is_refused_with_a_message(world, client):
    client.force_login(world.user("jiangning"))
    estate = world.jn.estate
    stale = estate_form(estate, households=1)
    services.update_estate(actor=None, estate=estate, changes={"households": 2})
    response = client.post(reverse("estate-edit", args=[estate.pk]), stale)
    assert response.status_code == 200
    assert "已被他人修改" in response.content.decode()
    estate.refresh_from_db()
    assert estate.households == 2


def test_bad_input_gets_a_chinese_message_and_changes_nothing(world, client):
    client.force_login(world.user("jiangning"))
    count = Estate.objects.count()
    response = client.post(
        reverse("estate-add"),
        {
            "name": world.jn.estate.name,
            "unit": world.jn.area.pk,
            "housing_type": "commercial",
            "households": 10,
            "built_year": "1700",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "1840" in content  # the built-year bound
    assert Estate.objects.count() == count


def test_creating_a_building_group_from_a_building_page(world, client):
    client.force_login(world.user("xinan"))
    url = reverse("buildinggroup-add") + f"?building={world.jn.building.pk}"
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"building": world.jn.building.pk, "name": "1号3楼组", "households": 12, "leader_name": "李老师"}
    )
    assert response.status_code == 302
    group = BuildingGroup.objects.get(name="1号3楼组")
    assert group.unit == world.jn.area


def test_the_list_filters_and_returns_only_the_table_to_htmx(world, client):
    client.force_login(world.user("admin"))
    response = client.get(reverse("estate-list"), {"street": "310106011"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "<html" not in content  # the partial
    assert world.sm.estate.name in content and world.jn.estate.name not in content
    full = client.get(reverse("estate-list"), {"street": "310106011"}).content.decode()
    assert "<html" in full and 'id="filters"' in full


def test_pagination_keeps_the_filter(world, client):
    for number in range(30):
        services.create_estate(
            actor=None, unit=world.jn.area, name=f"测试{number:02d}号小区", housing_type="lane"
        )
    client.force_login(world.user("jiangning"))
    page_two = client.get(reverse("estate-list"), {"housing_type": "lane", "page": 2}).content.decode()
    assert "housing_type=lane" in page_two
    assert "测试29号小区" in page_two and "测试00号小区" not in page_two


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _add_rows(world, count, offset):
    for number in range(count):
        estate = services.create_estate(
            actor=None, unit=world.jn.area, name=f"批量{offset + number}", housing_type="public_sold"
        )
        building = services.create_building(actor=None, estate=estate, number="1号")
        services.create_building_group(actor=None, building=building, name="1楼组")


LIST_PAGES = [
    "estate-list",
    "building-list",
    "buildinggroup-list",
    "grid-list",
    "block-list",
    "department-list",
    "audit-list",
    "api:estate-list",
    "api:building-list",
    "api:buildinggroup-list",
    "api:grid-list",
    "api:block-list",
    "api:unit-list",
    "api:department-list",
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_queries_do_not_grow_with_rows(world, client, name):
    client.force_login(world.user("admin"))
    url = reverse(name)
    _add_rows(world, 3, 0)
    _queries(client, url)  # the first request fills the process's content-type cache (audit-list's filter)
    few = _queries(client, url)
    _add_rows(world, 12, 100)
    assert _queries(client, url) == few


@pytest.mark.parametrize("name", ["unit-detail", "estate-detail", "building-detail"])
def test_detail_pages_do_not_grow_with_children(world, client, name):
    client.force_login(world.user("admin"))
    kwargs = {
        "unit-detail": {"code": world.jn.area.code},
        "estate-detail": {"pk": world.jn.estate.pk},
        "building-detail": {"pk": world.jn.building.pk},
    }[name]
    url = reverse(name, kwargs=kwargs)
    few = _queries(client, url)
    for number in range(8):
        building = services.create_building(actor=None, estate=world.jn.estate, number=f"{number + 10}号")
        services.create_building_group(actor=None, building=world.jn.building, name=f"{number + 10}楼组")
        services.create_estate(actor=None, unit=world.jn.area, name=f"新增{number}", housing_type="lane")
        assert building
    assert _queries(client, url) == few


def test_the_place_search_finds_estates_and_group_leaders_in_scope(world, client):
    client.force_login(world.user("jiangning"))
    content = client.get(reverse("place-search"), {"q": "王阿姨"}).content.decode()
    assert world.jn.group.name in content
    assert world.sm.estate.name not in client.get(reverse("place-search"), {"q": "石门"}).content.decode()


def test_unit_tree_for_a_street_user_shows_its_sixteen_areas(world, client):
    client.force_login(world.user("jiangning"))
    tree = client.get(reverse("unit-tree")).content.decode()
    assert "江宁路街道" in tree and "石门二路街道" not in tree
    street = client.get(reverse("unit-detail", args=["310106006"])).content.decode()
    assert street.count('href="/units/3101060060') == 16
    assert "石门二路" not in street


def test_estate_detail_lists_buildings_and_history(world, client):
    client.force_login(world.user("jiangning"))
    services.update_estate(actor=world.user("jiangning"), estate=world.jn.estate, changes={"households": 301})
    content = client.get(reverse("estate-detail", args=[world.jn.estate.pk])).content.decode()
    # The history names the field as the form does (issue 9, item 7), not by its code.
    assert "1号" in content and "修改记录" in content and "户数" in content
    assert Building.objects.filter(estate=world.jn.estate).count() == 1
