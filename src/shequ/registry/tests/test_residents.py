"""Residents and their personal data (X2, PIPL): never in clear in the database, masked everywhere,
revealed only with a permission and a reason, and every reveal logged."""

import base64
import datetime
import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from shequ.core import crypto
from shequ.core.management.commands.keys import read_progress, rotate
from shequ.core.models import AuditEntry, PersonalDataAccess
from shequ.registry import services
from shequ.registry.models import Household, Resident
from tests.world import make_id_number

ID = make_id_number(birth="19400115", sequence=931)
PHONE = "13912345678"


def raw_rows() -> str:
    """Everything in the residents table and the audit trail, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_resident")
        residents = cursor.fetchall()
        cursor.execute("SELECT * FROM core_auditentry")
        audit = cursor.fetchall()
    return repr(residents) + repr(audit)


def new_resident(world, **overrides):
    fields = {
        "unit": world.jn.area,
        "building_group": world.jn.group,
        "room": "202",
        "name": "周阿婆",
        "id_number": ID,
        "phone": PHONE,
    }
    return services.create_resident(actor=world.user("xinan"), **{**fields, **overrides})


def test_the_database_never_holds_an_id_or_phone_number_in_clear(world):
    resident = new_resident(world)
    services.update_resident(
        actor=world.user("xinan"), resident=resident, changes={"room": "203"}, phone="13987654321"
    )
    api = APIClient()
    api.force_authenticate(world.user("jiangning"))
    other = make_id_number(birth="19900101", sequence=941)
    assert (
        api.post(
            reverse("api:resident-list"),
            {"name": "API居民", "unit": world.jn.area.code, "id_number": other, "phone": "13700001111"},
            format="json",
        ).status_code
        == 201
    )
    content = raw_rows()
    for clear in (ID, PHONE, "13987654321", other, "13700001111", ID[6:14]):
        assert clear not in content
    stored = Resident.objects.get(pk=resident.pk)
    assert stored.id_masked == ID[:6] + "********" + ID[-4:]
    assert crypto.decrypt(stored.id_cipher) == ID


def test_the_id_number_gives_the_birth_date_and_gender(world):
    resident = new_resident(world)
    assert resident.birth_date == datetime.date(1940, 1, 15)
    assert resident.gender == "M"


def test_a_wrong_check_digit_is_refused_in_chinese_without_repeating_the_number(world):
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    with pytest.raises(ValidationError) as error:
        new_resident(world, id_number=wrong)
    message = error.value.message_dict["id_number"][0]
    assert "校验码" in message and wrong not in message
    assert not Resident.objects.filter(name="周阿婆").exists()


def test_a_duplicate_id_number_is_refused_and_names_where_it_is_registered(world):
    new_resident(world)
    with pytest.raises(ValidationError) as error:
        new_resident(world, name="重复", unit=world.jn.area, building_group=None)
    assert "已登记" in error.value.message_dict["id_number"][0]


def test_other_documents_are_checked_by_their_own_format(world):
    resident = new_resident(world, document_type="hk_macao_permit", id_number="H12345678")
    assert resident.id_masked == "H1*****78" and resident.birth_date is None
    with pytest.raises(ValidationError) as error:
        new_resident(world, name="护照错", document_type="passport", id_number="E1!")
    assert "护照" in error.value.message_dict["id_number"][0]


def test_search_by_exact_id_or_phone_goes_through_the_blind_index(world, client):
    resident = new_resident(world)
    client.force_login(world.user("jiangning"))
    by_id = client.get(reverse("resident-list"), {"id_number": ID.lower()}).content.decode()
    assert resident.name in by_id and world.jn.resident.name not in by_id
    by_phone = client.get(reverse("resident-list"), {"phone": "139 1234 5678"}).content.decode()
    assert resident.name in by_phone


def test_masked_values_everywhere(world, client, caplog):
    caplog.set_level(logging.DEBUG)
    resident = new_resident(world)
    services.update_resident(actor=world.user("xinan"), resident=resident, changes={}, phone="13911112222")
    client.force_login(world.user("jiangning"))
    pages = [
        client.get(reverse("resident-list")).content.decode(),
        client.get(reverse("resident-detail", args=[resident.pk])).content.decode(),
        client.get(reverse("resident-edit", args=[resident.pk])).content.decode(),
        client.get(reverse("api:resident-list")).content.decode(),
        client.get(reverse("api:resident-detail", args=[resident.pk])).content.decode(),
    ]
    entries = AuditEntry.objects.filter(object_id=str(resident.pk), content_type__model="resident")
    assert entries.count() == 2
    audit = repr(list(entries.values_list("before", "after")))
    for text in [*pages, audit, caplog.text]:
        for clear in (ID, PHONE, "13911112222"):
            assert clear not in text
    assert resident.id_masked in pages[0] and "139****2222" in pages[1]
    assert "139****2222" in audit and "139****5678" in audit


def test_revealing_without_permission_is_refused_and_shows_nothing(world, client):
    resident = new_resident(world)
    for username in ("admin", "auditor", "fangguan"):
        client.force_login(world.user(username))
        response = client.post(
            reverse("resident-reveal", args=[resident.pk]),
            {"fields_to_reveal": ["id_number"], "reason": "想看看"},
        )
        assert response.status_code == 403 and ID not in response.content.decode()
        api = APIClient()
        api.force_authenticate(world.user(username))
        response = api.post(
            reverse("api:resident-reveal", args=[resident.pk]), {"reason": "想看看"}, format="json"
        )
        assert response.status_code == 403 and ID not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_revealing_with_permission_and_a_reason_shows_the_value_and_logs_one_row(world, client):
    resident = new_resident(world)
    client.force_login(world.user("xinan"))
    response = client.post(
        reverse("resident-reveal", args=[resident.pk]),
        {"fields_to_reveal": ["id_number", "phone"], "reason": "办理高龄津贴"},
    )
    content = response.content.decode()
    assert response.status_code == 200 and ID in content and PHONE in content
    assert response["Cache-Control"] == "no-store"
    access = PersonalDataAccess.objects.get()
    assert access.user.username == "xinan" and access.reason == "办理高龄津贴"
    assert access.object_id == str(resident.pk) and "证件号码" in access.fields


def test_a_reveal_needs_a_reason(world, client):
    resident = new_resident(world)
    client.force_login(world.user("xinan"))
    response = client.post(
        reverse("resident-reveal", args=[resident.pk]), {"fields_to_reveal": ["id_number"], "reason": ""}
    )
    assert ID not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_revealing_through_the_api(world):
    resident = new_resident(world)
    api = APIClient()
    api.force_authenticate(world.user("jiangning"))
    response = api.post(
        reverse("api:resident-reveal", args=[resident.pk]),
        {"fields": ["phone"], "reason": "电话回访"},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"phone": PHONE}
    assert PersonalDataAccess.objects.get().fields == "电话"
    api.force_authenticate(world.user("shimen"))
    assert (
        api.post(
            reverse("api:resident-reveal", args=[resident.pk]), {"reason": "越界"}, format="json"
        ).status_code
        == 404
    )


def test_the_district_office_sees_the_access_log(world, client):
    resident = new_resident(world)
    services.reveal_personal_data(
        actor=world.user("xinan"), resident=resident, fields=["id_number"], reason="核对身份"
    )
    client.force_login(world.user("district"))
    page = client.get(reverse("personaldataaccess-list")).content.decode()
    assert "核对身份" in page and "xinan" not in page.split("核对身份")[1][:0] + page
    client.force_login(world.user("jiangning"))
    assert client.get(reverse("personaldataaccess-list")).status_code == 403


def test_moving_out_keeps_the_record_and_its_history(world, client):
    resident = new_resident(world)
    client.force_login(world.user("xinan"))
    response = client.post(
        reverse("resident-end", args=[resident.pk]),
        {"status": "moved_out", "on": "2025-03-01", "reason": "迁往闵行"},
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.status == "moved_out" and resident.status_changed_on == datetime.date(2025, 3, 1)
    link = f'href="/residents/{resident.pk}/"'
    assert link not in client.get(reverse("resident-list")).content.decode()
    assert link in client.get(reverse("resident-list"), {"status": ""}).content.decode()
    assert AuditEntry.objects.filter(
        object_id=str(resident.pk), content_type__model="resident", reason="迁往闵行"
    ).exists()


def test_residents_in_one_room_form_a_household_with_a_head(world):
    first = new_resident(world)
    second = new_resident(
        world,
        name="周小弟",
        id_number=make_id_number(birth="19800101", sequence=951),
        phone="",
        is_head=False,
    )
    first.refresh_from_db()
    assert first.household_id == second.household_id
    assert Household.objects.get(pk=first.household_id).head == first


def test_age_band_and_tag_filters(world, client):
    old = new_resident(world, tags=[world.tag])
    client.force_login(world.user("jiangning"))
    over_eighty = client.get(reverse("resident-list"), {"age_band": "80-"}).content.decode()
    assert old.name in over_eighty and world.jn.resident.name not in over_eighty
    tagged = client.get(reverse("resident-list"), {"tag": world.tag.code}).content.decode()
    assert old.name in tagged and world.jn.resident.name not in tagged


def test_key_rotation_reencrypts_everything_and_retires_the_old_key(world):
    residents = [
        new_resident(
            world,
            name=f"轮换{i}",
            id_number=make_id_number(birth="19700101", sequence=961 + 2 * i),
            phone=f"1390000000{i}",
            building_group=None,
        )
        for i in range(5)
    ]
    old_key = crypto.load_keyring()["encryption_keys"][0]
    old_tokens = dict(Resident.objects.values_list("pk", "id_cipher"))

    # Interrupted after one batch of two rows: the progress file remembers where it stopped.
    assert rotate(batch_size=2, stop_after_batches=1, echo=lambda _line: None) is False
    assert read_progress()["done"]["registry.Resident"] > 0
    assert len(crypto.load_keyring()["encryption_keys"]) == 2
    # Resumed: it finishes, and only the new key remains.
    assert rotate(batch_size=2, echo=lambda _line: None) is True
    assert read_progress() is None
    keys = crypto.load_keyring()["encryption_keys"]
    assert keys != [old_key] and len(keys) == 1

    rotated = dict(Resident.objects.values_list("pk", "id_cipher"))
    for pk, token in rotated.items():
        assert token != old_tokens[pk]
        assert crypto.decrypt(token).startswith("310106")
    # A key file holding only the old key decrypts none of them any more.
    path = crypto.key_file_path()
    current = path.read_text()
    try:
        path.write_text(json.dumps({**json.loads(current), "encryption_keys": [old_key]}))
        crypto.reload_keys()
        for token in rotated.values():
            with pytest.raises(crypto.PersonalDataKeyError):
                crypto.decrypt(token)
    finally:
        path.write_text(current)
        crypto.reload_keys()
    assert crypto.decrypt(Resident.objects.get(pk=residents[2].pk).phone_cipher) == "13900000002"
    # Lookups still work: the blind index key does not rotate.
    assert Resident.objects.filter(id_index__in=services.document_index_candidates(ID)).count() == 0
    assert Resident.objects.filter(phone_index=services.phone_index("13900000003")).count() == 1


def test_a_number_encrypted_by_the_first_release_still_decrypts_and_rotation_rewrites_it(world):
    """The first tokens were Fernet's; they decrypt under the same key file, and a rotation rewrites
    them as AES-GCM tokens under the new key."""
    resident = new_resident(world)
    key = crypto.load_keyring()["encryption_keys"][0]
    legacy = Fernet(key.encode()).encrypt(ID.encode()).decode()
    Resident.objects.filter(pk=resident.pk).update(id_cipher=legacy)
    assert crypto.decrypt(legacy) == ID

    assert rotate(echo=lambda _line: None) is True
    token = Resident.objects.get(pk=resident.pk).id_cipher
    assert token != legacy and not token.startswith("gAAAAA")  # Fernet's version byte, in base64
    assert crypto.decrypt(token) == ID


def test_a_tampered_or_foreign_token_is_refused():
    token = crypto.encrypt(PHONE)
    assert PHONE not in token and crypto.encrypt(PHONE) != token  # a fresh nonce every time
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-1] ^= 1
    for bad in (base64.urlsafe_b64encode(bytes(raw)).decode(), "not a token", token[:-8]):
        with pytest.raises(crypto.PersonalDataKeyError):
            crypto.decrypt(bad)
