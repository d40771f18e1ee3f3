"""Importing and exporting residents (X2, X4): ID numbers checked and encrypted on the way in, matched
through the blind index, masked on the way out unless revealed with a reason; a masked export can be
edited and re-imported; one bad row writes nothing."""

import io

from django.db import connection
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from shequ.core import crypto
from shequ.core.models import AuditEntry, ImportStatus, PersonalDataAccess
from shequ.core.tests.test_excel import content
from shequ.registry.models import Household, Resident
from shequ.registry.tests.test_import import fill_template, import_through_the_pages, run
from tests.world import make_id_number

HEADER = [
    "居民编号",
    "居民区",
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "出生日期",
    "电话",
    "小区名称",
    "楼号",
    "楼组",
    "室号",
    "人口类型",
    "人户分离",
    "标签",
    "状态",
    "入住日期",
    "迁出/死亡日期",
    "备注",
]


def resident_row(number, name="导入居民", phone="13700000001", tags="党员", area="新安居委会", room="301"):
    return [
        None,
        area,
        name,
        "居民身份证",
        number,
        None,
        None,
        phone,
        "新安花园",
        "1号",
        "1号1楼组",
        room,
        "户籍人口",
        "否",
        tags,
        "在住",
        None,
        None,
        None,
    ]


def workbook_of(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "居民.xlsx"
    return buffer


def test_a_filled_in_template_imports_residents_encrypted(world, client):
    client.force_login(world.user("xinan"))
    number = make_id_number(birth="19450101", sequence=913, male=False)
    # The template's columns are the register's: fill one row under the example.
    job = import_through_the_pages(
        client,
        "residents",
        fill_template(
            client,
            "residents",
            [
                [
                    None,
                    "310106006002",
                    "导入阿婆",
                    "居民身份证",
                    number,
                    None,
                    None,
                    "13700000001",
                    "新安花园",
                    "1号",
                    "1号1楼组",
                    "302",
                    "户籍人口",
                    "否",
                    "党员、独居老人",
                    "在住",
                    None,
                    None,
                    None,
                ],
            ],
        ),
    )
    assert job.status == ImportStatus.DONE, job.errors
    resident = Resident.objects.get(name="导入阿婆")
    assert (
        resident.gender == "F"
        and resident.birth_date.year == 1945
        and resident.building_group == world.jn.group
    )
    assert {tag.name for tag in resident.tags.all()} == {"党员", "独居老人"}
    assert crypto.decrypt(resident.id_cipher) == number
    assert Household.objects.get(pk=resident.household_id).head == resident
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_resident")
        raw = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM core_auditentry")
        raw += repr(cursor.fetchall())
    assert number not in raw and "13700000001" not in raw
    assert AuditEntry.objects.filter(request_id=job.audit_request_id).count() == 1


def test_a_duplicate_id_in_the_file_is_caught(world):
    number = make_id_number(birth="19500101", sequence=913)
    outcome = run(
        "residents", world.user("jiangning"), workbook_of([resident_row(number), resident_row(number, "二")])
    )
    assert not outcome.ok
    problem = outcome.problems[0]
    assert (problem.row, problem.column) == (3, "证件号码") and "与第 2 行重复" in problem.message
    assert not Resident.objects.filter(name__startswith="导入").exists()


def test_a_duplicate_id_against_the_database_is_caught(world):
    # 石门's resident, imported by 江宁路's street: registered elsewhere, not to be overwritten.
    number = crypto.decrypt(world.sm.resident.id_cipher)
    outcome = run("residents", world.user("jiangning"), workbook_of([resident_row(number)]))
    assert not outcome.ok
    assert "已登记在" in outcome.problems[0].message and world.sm.area.name in outcome.problems[0].message
    world.sm.resident.refresh_from_db()
    assert world.sm.resident.unit == world.sm.area


def test_a_bad_check_digit_is_named_by_row_and_column(world):
    good = make_id_number(birth="19600101", sequence=913)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    outcome = run(
        "residents", world.user("jiangning"), workbook_of([resident_row(good), resident_row(bad, "错")])
    )
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "证件号码")]
    assert "校验码" in outcome.problems[0].message and bad not in outcome.problems[0].message
    assert not Resident.objects.filter(name__startswith="导入").exists()


def test_reimporting_the_same_file_changes_nothing(world):
    rows = [
        resident_row(make_id_number(birth="19700101", sequence=901 + 2 * i), f"导入{i}") for i in range(5)
    ]
    user = world.user("jiangning")
    assert run("residents", user, workbook_of(rows)).rows_created == 5
    versions = dict(Resident.objects.values_list("pk", "version"))
    ciphers = dict(Resident.objects.values_list("pk", "id_cipher"))
    entries = AuditEntry.objects.count()
    again = run("residents", user, workbook_of(rows))
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 5)
    assert dict(Resident.objects.values_list("pk", "version")) == versions
    assert dict(Resident.objects.values_list("pk", "id_cipher")) == ciphers
    assert AuditEntry.objects.count() == entries


def test_a_masked_export_round_trips_without_changes(world, client):
    client.force_login(world.user("jiangning"))
    response = client.get(reverse("excel-export", args=["residents"]))
    exported = content(response)
    text = repr(list(load_workbook(io.BytesIO(exported), read_only=True).worksheets[0].values))
    assert crypto.decrypt(world.jn.resident.id_cipher) not in text and world.jn.resident.id_masked in text
    assert world.sm.resident.name not in text
    buffer = io.BytesIO(exported)
    buffer.name = "居民.xlsx"
    outcome = run("residents", world.user("jiangning"), buffer)
    assert outcome.ok, [p.as_dict() for p in outcome.problems]
    assert outcome.rows_created == outcome.rows_updated == 0


def test_an_edited_masked_export_updates_only_what_changed(world, client):
    client.force_login(world.user("jiangning"))
    workbook = load_workbook(io.BytesIO(content(client.get(reverse("excel-export", args=["residents"])))))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=header.index("室号") + 1, value="909")
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "居民.xlsx"
    outcome = run("residents", world.user("jiangning"), buffer)
    assert outcome.ok and outcome.rows_updated == 1
    world.jn.resident.refresh_from_db()
    assert world.jn.resident.room == "909"
    assert crypto.decrypt(world.jn.resident.id_cipher).startswith("310106")


def test_an_export_reveals_numbers_only_with_permission_and_a_reason(world, client):
    number = crypto.decrypt(world.jn.resident.id_cipher)
    client.force_login(world.user("xinan"))
    url = reverse("excel-export", args=["residents"])
    plain = content(client.get(url, {"reveal": "1", "reason": "高龄津贴发放核对"}))
    text = repr(list(load_workbook(io.BytesIO(plain), read_only=True).worksheets[0].values))
    assert number in text
    access = PersonalDataAccess.objects.get()
    assert access.record_count == 1 and access.reason == "高龄津贴发放核对"
    client.force_login(world.user("auditor"))
    response = client.get(url, {"reveal": "1", "reason": "想看"})
    assert response.status_code in (400, 403)
    assert PersonalDataAccess.objects.count() == 1


def test_one_bad_row_among_many_writes_nothing(world):
    rows = [
        resident_row(
            make_id_number(birth=f"19{50 + i // 300:02d}0101", sequence=(i * 2) % 1000),
            f"批{i}",
            phone="",
            tags="",
        )
        for i in range(600)
    ]
    rows[598][4] = rows[598][4][:-1] + ("1" if rows[598][4][-1] != "1" else "2")
    outcome = run("residents", world.user("jiangning"), workbook_of(rows))
    assert [(p.row, p.column) for p in outcome.problems] == [(600, "证件号码")]
    assert not Resident.objects.filter(name__startswith="批").exists()


def test_imported_residents_join_the_household_at_their_room_across_batches(world, monkeypatch):
    from shequ.core import excel

    monkeypatch.setattr(excel, "BATCH_SIZE", 2)
    # A household already at room 501, headed by a resident entered on the page.
    first = Resident.objects.create(
        unit=world.jn.area, name="户主", building_group=world.jn.group, room="501", id_index="", id_masked=""
    )
    existing = Household.objects.create(
        unit=world.jn.area, building_group=world.jn.group, room="501", head=first
    )
    Resident.objects.filter(pk=first.pk).update(household=existing)
    rooms = ["501", "502", "501", "502", "503"]  # batches of two: 502 is new in one batch, met in the next
    rows = [
        resident_row(make_id_number(birth="19800101", sequence=700 + 2 * i), f"同户{i}", room=room)
        for i, room in enumerate(rooms)
    ]
    outcome = run("residents", world.user("jiangning"), workbook_of(rows))
    assert outcome.ok and outcome.rows_written == 5, outcome.problems
    by_name = {r.name: r for r in Resident.objects.filter(name__startswith="同户")}
    assert by_name["同户0"].household_id == by_name["同户2"].household_id == existing.pk
    assert by_name["同户1"].household_id == by_name["同户3"].household_id != existing.pk
    assert Household.objects.get(pk=by_name["同户1"].household_id).head == by_name["同户1"]
    assert Household.objects.filter(building_group=world.jn.group, room__in=rooms).count() == 3
