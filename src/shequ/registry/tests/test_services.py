"""Registry writes: validation in Chinese, exactly one audit entry per write, scope re-checked after
every write, and no lost update when two people edit at once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shequ.core.audit import ConflictError, history_for
from shequ.core.models import AuditEntry
from shequ.registry import services
from shequ.registry.models import Building, BuildingGroup, Estate


def test_creating_an_estate_writes_one_audit_entry_with_its_fields(world):
    user = world.user("jiangning")
    before = AuditEntry.objects.count()
    estate = services.create_estate(
        actor=user, unit=world.jn.area, name="康定花园", housing_type="lane", built_year=1930, households=88
    )
    assert AuditEntry.objects.count() == before + 1
    entry = history_for(estate).get()
    assert entry.action == "create" and entry.actor == user and entry.before is None
    assert entry.after["name"] == "康定花园" and entry.after["unit"] == world.jn.area.pk
    assert entry.unit_path == world.jn.area.path


def test_updating_writes_one_entry_with_before_and_after(world):
    user = world.user("jiangning")
    estate = world.jn.estate
    services.update_estate(actor=user, estate=estate, changes={"households": 321}, reason="普查更正")
    entry = history_for(estate).first()
    assert entry.action == "update" and entry.reason == "普查更正"
    assert entry.before["households"] == 300 and entry.after["households"] == 321
    assert [name for name, _old, _new in entry.changed_fields() if name != "version"] == ["households"]


def test_an_update_that_changes_nothing_writes_nothing(world):
    estate = world.jn.estate
    count = AuditEntry.objects.count()
    services.update_estate(actor=world.user("jiangning"), estate=estate, changes={"households": 300})
    assert AuditEntry.objects.count() == count
    assert Estate.objects.get(pk=estate.pk).version == estate.version


def test_a_street_user_cannot_move_an_estate_into_another_street(world):
    with pytest.raises(PermissionDenied):
        services.update_estate(
            actor=world.user("jiangning"), estate=world.jn.estate, changes={"unit": world.sm.area}
        )
    estate = Estate.objects.get(pk=world.jn.estate.pk)
    assert estate.unit == world.jn.area
    assert not history_for(estate).filter(action="update").exists()


def test_a_street_user_cannot_create_in_another_street(world):
    with pytest.raises(PermissionDenied):
        services.create_estate(
            actor=world.user("jiangning"), unit=world.sm.area, name="越界小区", housing_type="commercial"
        )
    assert not Estate.objects.filter(name="越界小区").exists()


def test_moving_an_estate_moves_its_buildings_and_groups(world):
    other_area = world.units["310106006003"]  # 永乐居委会, also in 江宁路街道
    services.update_estate(
        actor=world.user("jiangning"), estate=world.jn.estate, changes={"unit": other_area}
    )
    assert Building.objects.get(pk=world.jn.building.pk).unit == other_area
    assert BuildingGroup.objects.get(pk=world.jn.group.pk).unit == other_area


def test_a_stale_version_is_refused_and_nothing_is_lost(world):
    user = world.user("jiangning")
    estate = world.jn.estate
    seen_version = estate.version
    services.update_estate(
        actor=user, estate=estate, changes={"households": 310}, expected_version=seen_version
    )
    with pytest.raises(ConflictError, match="已被他人修改"):
        services.update_estate(
            actor=user, estate=estate, changes={"address": "覆盖"}, expected_version=seen_version
        )
    estate.refresh_from_db()
    assert estate.households == 310 and estate.address != "覆盖"


def test_duplicate_names_are_refused_in_chinese(world):
    with pytest.raises(ValidationError) as error:
        services.create_estate(actor=None, unit=world.jn.area, name=world.jn.estate.name, housing_type="lane")
    assert "同名小区" in str(error.value.message_dict["name"])


def test_an_estate_must_belong_to_a_residential_area(world):
    with pytest.raises(ValidationError) as error:
        services.create_estate(
            actor=None, unit=world.units["310106006"], name="街道小区", housing_type="lane"
        )
    assert "居民区" in error.value.message_dict["unit"][0]


def test_a_building_group_takes_the_unit_of_its_building(world):
    group = services.create_building_group(
        actor=world.user("xinan"), building=world.jn.building, name="1号2楼组"
    )
    assert group.unit == world.jn.area


def test_a_committee_cannot_add_a_group_to_another_areas_building(world):
    with pytest.raises(PermissionDenied):
        services.create_building_group(actor=world.user("xinan"), building=world.sm.building, name="越界楼组")
