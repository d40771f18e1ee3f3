import pytest
from django.core.exceptions import ValidationError

from shequ.org import services
from shequ.org.models import Unit


def test_a_residential_area_code_has_twelve_digits_and_starts_with_its_streets(world):
    street = world.units["310106006"]
    with pytest.raises(ValidationError) as error:
        services.create_unit(
            actor=None, code="310106011999", name="错码居委会", kind="neighborhood", parent=street
        )
    assert "310106006" in error.value.message_dict["code"][0]
    with pytest.raises(ValidationError) as error:
        services.create_unit(
            actor=None, code="31010600699", name="短码居委会", kind="neighborhood", parent=street
        )
    assert "12位" in error.value.message_dict["code"][0]


def test_codes_are_unique(world):
    with pytest.raises(ValidationError) as error:
        services.create_unit(
            actor=None, code="310106006002", name="重复", kind="neighborhood", parent=world.units["310106006"]
        )
    assert "code" in error.value.message_dict


def test_a_residential_area_sits_under_a_street_not_another_area(world):
    with pytest.raises(ValidationError) as error:
        services.create_unit(
            actor=None,
            code="310106006099",
            name="下级",
            kind="neighborhood",
            parent=world.units["310106006002"],
        )
    assert "上级" in error.value.message_dict["parent"][0]


def test_a_unit_cannot_be_moved_under_itself(world):
    street = world.units["310106006"]
    with pytest.raises(ValidationError):
        services.update_unit(actor=None, unit=street, changes={"parent": world.units["310106006002"]})


def test_paths_follow_the_codes(world):
    assert world.units["310106006002"].path == "/310106/310106006/310106006002/"
    assert Unit.objects.get(code="310106D01").path == "/310106/310106D01/"


def test_a_street_admin_may_rename_an_area_of_its_street_but_not_of_another(world):
    from django.core.exceptions import PermissionDenied

    admin = world.user("jiangning_admin")
    services.update_unit(actor=admin, unit=world.jn.area, changes={"phone": "021-62000000"})
    with pytest.raises(PermissionDenied):
        services.update_unit(actor=admin, unit=world.sm.area, changes={"phone": "021-63000000"})
    world.sm.area.refresh_from_db()
    assert world.sm.area.phone == ""
