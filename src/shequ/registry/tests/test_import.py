"""Excel import and export of the registers (X4), end to end: template → fill → import for each
register, export → import changes nothing, one bad row among 10,000 writes nothing, duplicate keys,
scope, and exports that hold exactly the rows the list shows."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shequ.core import excel
from shequ.core.models import AuditEntry, ImportJob, ImportStatus
from shequ.core.tests.test_excel import ESTATE_HEADER, content, sheet_rows, xlsx
from shequ.org.models import Unit
from shequ.registry import services
from shequ.registry.models import Building, BuildingGroup, Estate, Grid


def fill_template(client, register, rows):
    """The register's template as a user downloads it, with rows typed in under the example."""
    response = client.get(reverse("excel-template", args=[register]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(content(response)))
    for row in rows:
        workbook.worksheets[0].append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = f"{register}.xlsx"
    return buffer


def import_through_the_pages(client, register, buffer) -> ImportJob:
    """Upload (the check runs), then confirm if it passed; the job as it ends."""
    response = client.post(reverse("excel-import", args=[register]), {"file": buffer})
    assert response.status_code == 302, response.content.decode()
    job = ImportJob.objects.latest("pk")
    if job.status == ImportStatus.CHECKED:
        client.post(reverse("excel-job-commit", args=[job.pk]))
        job.refresh_from_db()
    return job


def run(register, user, buffer, *, write=True) -> excel.Outcome:
    return excel.ImportRun(excel.get_register(register), user=user, source=buffer, write=write).run()


# Template → fill → import, for every register ------------------------------------------------------

FILLED = {
    "units": ("admin", [["310106006099", "测试居委会", "江宁路街道", "江宁路1号", "021-62000001"]]),
    "departments": ("admin", [["310106D98", "区测试局", "常德路2号", None]]),
    "estates": ("jiangning", [["新安居委会", "导入花园", "普通商品房", "江宁路9弄", 2001, 100, 1234.5]]),
    "buildings": ("jiangning", [["新安居委会", "新安花园", "9号", None, 6, 30, "是"]]),
    "building-groups": ("xinan", [["310106006002", "新安花园", "1号", "1号2楼组", 10, "李阿姨", None]]),
    "grids": ("jiangning", [["310106006G01", "江宁一网格", "310106006", "新安居委会、联宝里居委会", None]]),
}


@pytest.mark.parametrize("register", sorted(FILLED))
def test_a_filled_in_template_imports_for_every_register(world, client, register):
    username, rows = FILLED[register]
    client.force_login(world.user(username))
    job = import_through_the_pages(client, register, fill_template(client, register, rows))
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.rows_created, job.rows_written) == (1, 1)
    entry = AuditEntry.objects.get(request_id=job.audit_request_id)
    assert entry.action == "import" and entry.actor_name == username and entry.before is None
    record = entry.content_type.get_object_for_this_type(pk=entry.object_id)
    checks = {
        "units": lambda u: (
            (u.kind, u.parent.code, u.path)
            == ("neighborhood", "310106006", "/310106/310106006/310106006099/")
        ),
        "departments": lambda d: (d.kind, d.parent.code, d.address) == ("department", "310106", "常德路2号"),
        "estates": lambda e: (
            (e.unit, e.housing_type, e.built_year, str(e.floor_area))
            == (world.jn.area, "commercial", 2001, "1234.50")
        ),
        "buildings": lambda b: (
            (b.estate, b.unit, b.floors, b.has_elevator) == (world.jn.estate, world.jn.area, 6, True)
        ),
        "building-groups": lambda g: (
            (g.building, g.unit, g.leader_name) == (world.jn.building, world.jn.area, "李阿姨")
        ),
        "grids": lambda g: (
            (g.unit.code, sorted(g.neighborhoods.values_list("name", flat=True)))
            == ("310106006", ["新安居委会", "联宝里居委会"])
        ),
    }
    assert checks[register](record)


# Export → import of the same file changes nothing ---------------------------------------------------


@pytest.mark.parametrize("register", sorted(FILLED))
def test_exporting_and_importing_the_same_file_changes_nothing(world, client, register):
    admin = world.user("admin")
    services.create_grid(
        actor=None,
        unit=world.jn.area.parent,
        code="310106006G02",
        name="第二网格",
        neighborhoods=[world.jn.area],
    )
    # A residential area whose name is not unique in the district: exported by its code.
    yongle = Unit.objects.get(code="310106006003")
    services.create_estate(actor=None, unit=yongle, name="永乐小区", housing_type="lane", floor_area="88.10")
    client.force_login(admin)
    exported = content(client.get(reverse("excel-export", args=[register])))
    model = excel.get_register(register).model
    versions = dict(excel.get_register(register).base_queryset().values_list("pk", "version"))
    audit_count = AuditEntry.objects.count()
    buffer = io.BytesIO(exported)
    buffer.name = "export.xlsx"
    job = import_through_the_pages(client, register, buffer)
    assert job.status == ImportStatus.DONE, job.errors
    assert job.rows_total == len(versions) > 0
    assert (job.rows_unchanged, job.rows_created, job.rows_updated, job.rows_written) == (
        len(versions),
        0,
        0,
        0,
    )
    assert dict(excel.get_register(register).base_queryset().values_list("pk", "version")) == versions
    assert AuditEntry.objects.count() == audit_count
    assert model.objects.count() >= len(versions)


def test_a_changed_row_updates_its_record_once_with_a_new_version(world, client):
    client.force_login(world.user("jiangning"))
    estate = world.jn.estate
    rows = [["新安居委会", estate.name, "售后公房", estate.address, estate.built_year, 999, None]]
    job = import_through_the_pages(client, "estates", xlsx(ESTATE_HEADER, rows))
    assert (job.status, job.rows_updated, job.rows_created) == (ImportStatus.DONE, 1, 0)
    estate.refresh_from_db()
    assert (estate.households, estate.housing_type, estate.version) == (999, "public_sold", 2)
    entry = AuditEntry.objects.get(request_id=job.audit_request_id)
    assert entry.before["households"] == 300 and entry.after["households"] == 999
    # The same file again: nothing left to change.
    job = import_through_the_pages(client, "estates", xlsx(ESTATE_HEADER, rows))
    assert (job.rows_unchanged, job.rows_written) == (1, 0)
    assert not AuditEntry.objects.filter(request_id=job.audit_request_id).exists()


def test_columns_left_out_of_the_file_keep_their_values(world, client):
    client.force_login(world.user("jiangning"))
    estate = world.jn.estate
    header = ["居民区", "小区名称", "房屋类型", "户数"]
    import_through_the_pages(
        client, "estates", xlsx(header, [["新安居委会", estate.name, "普通商品房", 301]])
    )
    estate.refresh_from_db()
    assert (estate.households, estate.address, estate.built_year) == (301, "新安路1弄", 2001)


# All or nothing ---------------------------------------------------------------------------------


def test_one_bad_row_near_the_end_of_10000_writes_nothing_and_is_named(world):
    """The commit checks every row again as it writes (the file or the data may have changed since the
    check): here it has written 9,997 estates when row 9,999 fails the model's validation, and all of
    them are rolled back. The check reports the same row and column (test_a_job_whose_check_failed…)."""
    user = world.user("jiangning")
    rows = [["新安居委会", f"批量小区{i:05d}", "售后公房", None, 1990, i % 300, None] for i in range(10000)]
    rows[9997][4] = 1700  # Excel row 9,999 (the header is row 1): a year the model refuses
    estates = Estate.objects.count()
    outcome = run("estates", user, xlsx(ESTATE_HEADER, rows), write=True)
    assert [(p.row, p.column) for p in outcome.problems] == [(9999, "建成年份")]
    assert "1840" in outcome.problems[0].message  # the model's own validator, mapped to its column
    assert outcome.rows_checked == 10000 and outcome.rows_written == 0
    assert Estate.objects.count() == estates
    assert not AuditEntry.objects.filter(action="import").exists()


def test_a_job_whose_check_failed_cannot_be_confirmed(world, client):
    client.force_login(world.user("jiangning"))
    rows = [["新安居委会", f"甲{i}", "普通商品房", None, None, 1, None] for i in range(600)]
    rows[597][5] = -1  # row 599, in the second batch
    job = import_through_the_pages(client, "estates", xlsx(ESTATE_HEADER, rows))
    assert job.status == ImportStatus.INVALID
    assert [(e["row"], e["column"]) for e in job.errors] == [(599, "户数")]
    response = client.post(reverse("excel-job-commit", args=[job.pk]), follow=True)
    assert "只有检查通过的导入才能确认" in response.content.decode()
    assert not Estate.objects.filter(name__startswith="甲").exists()


def test_a_natural_key_repeated_in_the_file_is_caught(world, client):
    client.force_login(world.user("jiangning"))
    rows = [
        ["新安居委会", "重复花园", "普通商品房", None, None, 1, None],
        ["新安居委会", "另一花园", "普通商品房", None, None, 1, None],
        ["310106006002", "重复花园", "售后公房", None, None, 2, None],  # the same area, by its code
    ]
    job = import_through_the_pages(client, "estates", xlsx(ESTATE_HEADER, rows))
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "row": 4,
            "column": "小区名称",
            "message": "与第 2 行重复：居民区 + 小区名称 相同的记录只能出现一次。",
        }
    ]


def test_related_records_are_found_by_name_or_code_and_misses_are_named(world, client):
    client.force_login(world.user("jiangning"))
    header = ["居民区", "小区名称", "楼号", "层数"]
    rows = [
        ["新安居委会", "没有的小区", "1号", 6],
        ["永乐居委会", "新安花园", "2号", 6],  # two areas of the district have this name
        ["新安居委会", "新安花园", "3号", "六"],
    ]
    job = import_through_the_pages(client, "buildings", xlsx(header, rows))
    assert {(e["row"], e["column"], e["message"]) for e in job.errors} == {
        (2, "小区名称", "居民区“新安居委会”中没有小区“没有的小区”。"),
        (3, "居民区", "有多个居民区叫“永乐居委会”，请改填代码。"),
        (4, "层数", "“六”不是整数。"),
    }


# Scope ------------------------------------------------------------------------------------------


def test_rows_outside_the_users_scope_are_refused(world, client):
    client.force_login(world.user("jiangning"))
    shimen_area = world.sm.area
    rows = [
        ["新安居委会", "本街道花园", "普通商品房", None, None, 1, None],
        [shimen_area.code, "别的街道花园", "普通商品房", None, None, 1, None],
        [shimen_area.code, world.sm.estate.name, "普通商品房", None, None, 1, None],  # an existing one
    ]
    job = import_through_the_pages(client, "estates", xlsx(ESTATE_HEADER, rows))
    assert job.status == ImportStatus.INVALID
    assert [(e["row"], e["column"], e["message"]) for e in job.errors] == [
        (3, "居民区", "无权在该居民区导入。"),
        (4, "居民区", "无权在该居民区导入。"),
    ]
    assert not Estate.objects.filter(name="本街道花园").exists()
    world.sm.estate.refresh_from_db()
    assert world.sm.estate.version == 1


def test_a_committee_imports_buildings_in_its_own_area_only(world, client):
    client.force_login(world.user("xinan"))
    other = services.create_estate(
        actor=None, unit=Unit.objects.get(code="310106006005"), name="联宝里", housing_type="lane"
    )
    header = ["居民区", "小区名称", "楼号"]
    job = import_through_the_pages(
        client,
        "buildings",
        xlsx(header, [["新安居委会", "新安花园", "5号"], ["联宝里居委会", other.name, "1号"]]),
    )
    assert [(e["row"], e["message"]) for e in job.errors] == [(3, "无权在该居民区导入。")]
    assert not Building.objects.filter(number="5号").exists()


def test_a_committee_may_change_its_estates_but_not_add_them(world):
    xinan = world.user("xinan")
    # No 'add' on estates: the import page refuses (the permission matrix checks it); the engine too.
    rows = [
        ["新安居委会", "新安花园", "普通商品房", None, None, 7, None],
        ["新安居委会", "新花园", "普通商品房", None, None, 1, None],
    ]
    outcome = run("estates", xinan, xlsx(ESTATE_HEADER, rows), write=False)
    assert [(p.row, p.message) for p in outcome.problems] == [(3, "无权在此新增小区。")]


# Export -----------------------------------------------------------------------------------------


def test_the_export_holds_exactly_the_filtered_rows_the_user_may_see(world, client):
    area = world.jn.area
    for name, housing_type in [("老弄堂", "lane"), ("新弄堂", "lane"), ("红旗大楼", "public_sold")]:
        services.create_estate(actor=None, unit=area, name=name, housing_type=housing_type)
    services.create_estate(actor=None, unit=world.sm.area, name="石门弄堂", housing_type="lane")
    client.force_login(world.user("jiangning"))
    params = {"housing_type": "lane", "q": "弄堂"}
    listed = [
        row for row in Estate.objects.filter(unit__path__startswith="/310106/310106006/", housing_type="lane")
    ]
    response = client.get(reverse("excel-export", args=["estates"]), params)
    assert response.status_code == 200
    assert "filename*=utf-8''%E5%B0%8F%E5%8C%BA_" in response["Content-Disposition"]  # 小区_…
    rows = sheet_rows(response)
    assert list(rows[0]) == ESTATE_HEADER
    assert sorted(row[1] for row in rows[1:]) == sorted(e.name for e in listed) == ["新弄堂", "老弄堂"]
    assert rows[1][2] == "里弄/旧里"  # choices in Chinese
    # The list page with the same filters shows the same rows.
    page = client.get(reverse("estate-list"), params).content.decode()
    assert "老弄堂" in page and "新弄堂" in page and "红旗大楼" not in page and "石门弄堂" not in page


def test_building_groups_export_with_their_place_and_reimport(world, client):
    client.force_login(world.user("xinan"))
    rows = sheet_rows(client.get(reverse("excel-export", args=["building-groups"])))
    assert rows == [
        ("居民区", "小区名称", "楼号", "楼组名称", "户数", "楼组长", "备注"),
        ("新安居委会", "新安花园", "1号", "1号1楼组", 0, "王阿姨", None),
    ]


def test_grids_round_trip_their_residential_areas(world, client):
    client.force_login(world.user("jiangning"))
    header = ["网格编码", "网格名称", "所属街道/镇", "覆盖居民区"]
    job = import_through_the_pages(
        client,
        "grids",
        xlsx(header, [[world.jn.grid.code, world.jn.grid.name, "江宁路街道", "新安居委会、联宝里居委会"]]),
    )
    assert (job.status, job.rows_updated) == (ImportStatus.DONE, 1), job.errors
    grid = Grid.objects.get(pk=world.jn.grid.pk)
    assert grid.neighborhoods.count() == 2 and grid.version == 2
    entry = AuditEntry.objects.get(request_id=job.audit_request_id)
    assert len(entry.before["neighborhoods"]) == 1 and len(entry.after["neighborhoods"]) == 2
    rows = sheet_rows(client.get(reverse("excel-export", args=["grids"]), {"q": grid.code}))
    assert rows[1][3] == "新安居委会、联宝里居委会"


def test_building_groups_in_10000_rows_are_checked_with_a_few_queries_per_batch(
    world, django_assert_max_num_queries
):
    """Lookups are per batch, not per row: the check of 1,000 new building groups in one building costs
    the validation's own queries per row and a handful per batch of 500."""
    user = world.user("jiangning")
    rows = [["新安居委会", "新安花园", "1号", f"{i}楼组", 1, None, None] for i in range(1000)]
    header = ["居民区", "小区名称", "楼号", "楼组名称", "户数", "楼组长", "备注"]
    source = xlsx(header, rows)
    # full_clean per new row: the building and unit exist, the name is unique (model and constraint).
    with django_assert_max_num_queries(1000 * 4 + 2 * 6 + 5):
        outcome = run("building-groups", user, source, write=False)
    assert outcome.ok and outcome.rows_created == 1000
    assert BuildingGroup.objects.count() == 2  # a check writes nothing


def export_rows_of(register_name, user, queryset=None) -> list[tuple]:
    register_ = excel.get_register(register_name)
    buffer = io.BytesIO()
    excel.write_export(
        register_,
        user=user,
        queryset=register_.export_queryset(user) if queryset is None else queryset,
        fileobj=buffer,
    )
    return sheet_rows(buffer.getvalue())


def test_an_export_reads_its_rows_with_a_fixed_number_of_queries(world, django_assert_num_queries):
    """Values, not instances: one query for the rows (joins included) and one a chunk for each
    many-to-many column, whatever the number of rows; the lookups are loaded once."""
    admin = world.user("admin")
    register_ = excel.get_register("grids")
    few = export_rows_of("grids", admin)
    for number in range(12):
        grid = services.create_grid(
            actor=None, code=f"310106006G9{number:02d}", name=f"测试网格{number}", unit=world.jn.area.parent
        )
        grid.neighborhoods.set([world.jn.area])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        excel.write_export(
            register_, user=admin, queryset=register_.export_queryset(admin)[:1], fileobj=io.BytesIO()
        )
    with CaptureQueriesContext(connection) as many:
        excel.write_export(
            register_, user=admin, queryset=register_.export_queryset(admin), fileobj=io.BytesIO()
        )
    assert len(many) == len(one)
    rows = export_rows_of("grids", admin)
    assert len(rows) == len(few) + 12
    assert ("310106006G900", "测试网格0", "江宁路街道", world.jn.area.name, None) in rows


def test_an_export_with_no_rows_still_has_its_header(world):
    rows = export_rows_of("estates", world.user("jiangning"), Estate.objects.none())
    assert rows == [tuple(ESTATE_HEADER)]


def test_a_text_longer_than_excel_holds_is_cut_to_its_limit():
    # Excel's cell limit is 32,767 characters; the writer refuses longer texts (a case's description may be).
    assert len(excel._cell_value("很长" * 20000)) == excel.EXCEL_TEXT_LIMIT
