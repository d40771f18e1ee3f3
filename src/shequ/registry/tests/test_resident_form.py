"""The resident form as a committee clerk uses it (issue 9, items 1, 6, 11): every submit answers with the
resident's page or the form with a Chinese message on the field concerned, never a 500."""

import re

import pytest
from django.urls import reverse
from stdnum.cn import ric

from shequ.registry import services
from shequ.registry.models import Building, BuildingGroup, Estate, Resident


def valid_id(birth: str = "19650304", sequence: str = "123") -> str:
    stem = f"310106{birth}{sequence}"
    # stdnum computes the check digit of a number given with a placeholder in its place.
    return stem + ric.calc_check_digit(stem + "0")


def wrong_check_digit(number: str) -> str:
    digits = "0123456789X"
    return number[:-1] + digits[(digits.index(number[-1]) + 1) % len(digits)]


def resident_form(world, **overrides):
    data = {
        "name": "林阿姨",
        "document_type": "resident_id",
        "id_number": valid_id(),
        "gender": "",
        "birth_date": "",
        "phone": "13900001234",
        "unit": world.jn.area.pk,
        "estate": "",
        "building": "",
        "building_group": world.jn.group.pk,
        "room": "301",
        "residence_type": "registered",
        "moved_in_on": "",
        "note": "",
    }
    return {**data, **overrides}


def field_errors(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


@pytest.fixture
def clerk(world, client):
    client.force_login(world.user("xinan"))
    return client


def test_a_valid_resident_is_created_and_the_clerk_lands_on_their_page(world, clerk):
    response = clerk.post(reverse("resident-add"), resident_form(world, tags=[world.tag.pk], is_head="on"))
    resident = Resident.objects.get(name="林阿姨")
    assert response.status_code == 302 and response["Location"] == resident.get_absolute_url()
    assert resident.id_masked.endswith(valid_id()[-4:]) and resident.birth_date.isoformat() == "1965-03-04"
    assert list(resident.tags.all()) == [world.tag]
    assert resident.household.head_id == resident.pk


def test_a_wrong_check_digit_is_named_on_the_id_field_and_nothing_is_written(world, clerk):
    response = clerk.post(
        reverse("resident-add"), resident_form(world, id_number=wrong_check_digit(valid_id()))
    )
    assert response.status_code == 200
    assert field_errors(response, "id_number") == ["身份证号码校验码错误（GB 11643）。"]
    assert "身份证号码校验码错误" in response.content.decode()
    assert not Resident.objects.filter(name="林阿姨").exists()


def test_an_impossible_birth_date_in_the_id_number_is_named_on_the_id_field(world, clerk):
    response = clerk.post(reverse("resident-add"), resident_form(world, id_number=valid_id(birth="19990230")))
    assert response.status_code == 200
    assert field_errors(response, "id_number") == ["身份证号码中的出生日期无效。"]


def test_an_impossible_birth_date_typed_in_the_date_field_is_named_there(world, clerk):
    response = clerk.post(
        reverse("resident-add"), resident_form(world, id_number="", birth_date="2023-02-30")
    )
    assert response.status_code == 200 and field_errors(response, "birth_date")


def test_an_empty_id_number_is_allowed_and_an_empty_form_names_what_is_missing(world, clerk):
    response = clerk.post(reverse("resident-add"), resident_form(world, id_number="", phone=""))
    assert response.status_code == 302
    assert Resident.objects.get(name="林阿姨").id_masked == ""
    response = clerk.post(reverse("resident-add"), {})
    assert response.status_code == 200
    assert field_errors(response, "name") and not response.context["form"].non_field_errors()


def test_control_characters_in_a_name_are_refused_with_a_message_naming_the_field(world, clerk):
    response = clerk.post(reverse("resident-add"), resident_form(world, name="林\x07阿姨"))
    assert response.status_code == 200
    assert field_errors(response, "name") == ["“姓名”含有看不见的控制字符，请删除后再保存。"]
    response = clerk.post(reverse("resident-add"), resident_form(world, name="林\x00阿姨"))
    assert response.status_code == 200 and field_errors(response, "name")
    assert not Resident.objects.filter(name__startswith="林").exists()


@pytest.mark.parametrize("value", ["9" * 30, "-5", "1e400"])
def test_huge_or_negative_numbers_in_numeric_fields_answer_with_a_message_not_a_500(world, clerk, value):
    data = {"estate": world.jn.estate.pk, "number": "99号", "address": "", "floors": value, "households": 1}
    response = clerk.post(reverse("building-add"), data)
    assert response.status_code == 200
    assert field_errors(response, "floors")
    assert not Building.objects.filter(number="99号").exists()


def test_the_clerks_only_area_is_preselected_and_its_pickers_offer_its_places(world, clerk):
    form = clerk.get(reverse("resident-add")).context["form"]
    assert form.initial["unit"] == world.jn.area.pk
    assert list(form.fields["estate"].queryset) == [world.jn.estate]
    # The estate narrows the buildings, the building the groups (the street has more than one of each).
    other = services.create_estate(
        actor=None, unit=world.jn.area, name="新安二村", housing_type="commercial", households=10
    )
    building = services.create_building(actor=None, estate=other, number="5号", floors=5, households=10)
    group = services.create_building_group(actor=None, building=building, name="5号楼组")
    form = clerk.get(reverse("resident-add"), {"unit": world.jn.area.pk, "estate": other.pk}).context["form"]
    assert list(form.fields["building"].queryset) == [building]
    assert list(form.fields["building_group"].queryset) == [group]
    # The only building of the chosen estate is chosen too, so its groups are offered at once.
    assert form.initial["building"] == building.pk


def test_the_picker_refresh_carries_no_personal_data_and_a_wrong_estate_counts_as_none(world, clerk):
    page = clerk.get(reverse("resident-add"), {"unit": world.jn.area.pk, "estate": world.sm.estate.pk})
    form = page.context["form"]
    assert form.current("estate") is None
    assert set(form.fields["building_group"].queryset) == set(
        BuildingGroup.objects.filter(unit=world.jn.area)
    )
    html = page.content.decode()
    assert 'id="field-building_group" data-picker' in html and "data-refresh-form" in html


def test_the_tag_checkboxes_are_real_labelled_checkboxes(world, clerk):
    html = clerk.get(reverse("resident-add")).content.decode()
    boxes = re.findall(r'<label class="form-check"[^>]*><input type="checkbox" name="tags"[^>]*>', html)
    assert boxes and all("form-control" not in box for box in boxes)
    assert world.tag.name in html and "<legend" in html


def test_editing_keeps_the_place_chain_of_the_resident(world, clerk):
    resident = world.jn.resident
    form = clerk.get(reverse("resident-edit", args=[resident.pk])).context["form"]
    assert form.initial["estate"] == world.jn.estate.pk
    assert form.initial["building"] == world.jn.building.pk
    assert Estate.objects.filter(pk=form.initial["estate"]).exists()


def test_the_tag_list_names_tags_and_links_to_the_editor_only_for_those_who_keep_it(world, client):
    client.force_login(world.user("xinan"))
    html = client.get(reverse("residenttag-list")).content.decode()
    edit = reverse("residenttag-edit", args=[world.tag.pk])
    assert world.tag.name in html and world.tag.code not in html and edit not in html
    client.force_login(world.user("district"))
    assert edit in client.get(reverse("residenttag-list")).content.decode()
    form = client.get(edit).content.decode()
    assert "代码" in form and world.tag.code in form


def listed_names(client, **params) -> set[str]:
    response = client.get(reverse("resident-list"), params)
    return {row.record.name for row in response.context["table"].rows}


def test_residents_are_found_by_the_last_four_characters_of_the_id_number_by_those_who_may_reveal(
    world, client
):
    resident = world.jn.resident
    tail = resident.id_masked[-4:]
    client.force_login(world.user("xinan"))
    assert resident.name in listed_names(client, id_number=tail.lower())
    assert resident.name not in listed_names(client, id_number="0000" if tail != "0000" else "1111")
    # A grid worker reads the masked list but may not reveal numbers: a tail finds no one for them.
    client.force_login(world.user("wangge"))
    assert listed_names(client, id_number=tail) == set()


def test_residents_are_found_by_building_group_name_estate_or_building_number(world, client):
    client.force_login(world.user("xinan"))
    resident = world.jn.resident
    assert resident.name in listed_names(client, group="新安花园 1号1楼组")
    assert resident.name not in listed_names(client, group="没有这个楼组")
    html = client.get(reverse("resident-list")).content.decode()
    assert 'name="group"' in html and 'name="building_group"' not in html


def test_registry_tables_say_yes_or_no_and_show_only_their_own_columns(world, client):
    client.force_login(world.user("jiangning"))
    services.create_building(actor=None, estate=world.jn.estate, number="8号", has_elevator=True)
    buildings = client.get(reverse("building-list")).content.decode()
    assert re.search(r'data-label="有电梯"><span class="true">是</span></td>', buildings)
    assert 'name="estate"' not in buildings  # an id filter, for the API and links only
    groups = client.get(reverse("buildinggroup-list")).content.decode()
    assert "有电梯" not in groups and not re.search(r">[^<]*[A-Z]{2,}[^<]*</a></th>", groups)
