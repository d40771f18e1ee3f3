"""The case pages as a street dispatcher, a department and a grid worker use them: intake and its pickers,
立案并派遣 on the case page, the work queues (order, speed, the grid worker's 待核查), the printable 派遣单,
the Open311 client page."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from shequ.cases import services
from shequ.cases.choices import Stage
from shequ.cases.models import Case, Open311Client
from shequ.cases.queues import QUEUES, queue_cases
from shequ.org.models import Unit


def selected(page: str, name: str) -> list[str]:
    """The values selected in the <select name=…> of a page."""
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, name
    return re.findall(r'<option value="([^"]*)"[^>]*selected', found.group(1))


def photo(name: str = "现场.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


# The Open311 client page ----------------------------------------------------------------------------------


def test_the_open311_client_form_is_a_form_and_the_created_page_shows_the_name_and_key_once(world, client):
    client.force_login(world.user("admin"))
    form = client.get(reverse("open311client-add")).content.decode()
    assert 'name="name"' in form and "api-key" not in form  # the form, not an empty "created" page
    response = client.post(reverse("open311client-add"), {"name": "随申办市民云", "contact": "张三"})
    page = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = re.search(r'<code id="api-key"[^>]*>([^<]+)</code>', page).group(1)
    app = Open311Client.objects.get(name="随申办市民云")
    assert 'id="client-name">随申办市民云<' in page and len(key) >= 40
    assert services.client_for_key(key) == app and app.key_prefix == key[:8]
    assert key not in client.get(reverse("open311client-list")).content.decode()  # shown once


# Intake ---------------------------------------------------------------------------------------------------


def test_a_clerk_starts_on_her_area_and_its_only_grid(world, client):
    client.force_login(world.user("xinan"))
    page = client.get(reverse("case-add")).content.decode()
    assert selected(page, "unit") == [str(world.jn.area.pk)]
    assert selected(page, "grid") == [str(world.jn.grid.pk)]
    assert world.jn.estate.name in page


def test_choosing_an_area_fills_its_estates_grids_and_clears_the_groups(world, client):
    client.force_login(world.user("jiangning"))
    page = client.get(reverse("case-add")).content.decode()
    assert selected(page, "grid") == []  # a street has many areas: nothing chosen for it
    options = reverse("case-place-options")
    area = world.jn.area.pk
    grids = client.get(options, {"for": "grid", "unit": area}).content.decode()
    assert world.jn.grid.name in grids and "selected" in grids  # the area's one grid, chosen
    assert world.jn.estate.name in client.get(options, {"for": "estate", "unit": area}).content.decode()
    groups = client.get(options, {"for": "building_group", "unit": area, "estate": world.jn.estate.pk})
    assert world.jn.group.name in groups.content.decode()
    # The area changed, the estate picker still holds the old estate: no groups of another area.
    stale = client.get(
        options, {"for": "building_group", "unit": world.sm.area.pk, "estate": world.jn.estate.pk}
    )
    assert world.jn.group.name not in stale.content.decode()
    # Another street's places are not offered.
    assert (
        world.sm.grid.name
        not in client.get(options, {"for": "grid", "unit": world.sm.area.pk}).content.decode()
    )


# 立案并派遣 on the case page -------------------------------------------------------------------------------


def test_the_dispatcher_registers_and_dispatches_in_one_submit(world, client, new_case):
    case = new_case()
    client.force_login(world.user("jiangning"))
    page = client.get(case.get_absolute_url()).content.decode()
    forms = re.findall(r'id="action-([a-z_]+)"', page)
    assert forms[0] == "register_dispatch" and "register" in forms  # 立案 alone stays possible
    assert selected(page, "assignee")[0] == str(world.department.pk)  # the responsibility list's unit
    assert "区房管局（职责清单建议）" in page
    response = client.post(
        reverse("case-action", args=[case.pk, "register_dispatch"]),
        {"assignee": world.department.pk, "note": "热线来电"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.DISPATCHED and case.assignee == world.department
    assert list(case.events.values_list("action", flat=True)) == ["report", "register", "dispatch"]


def test_a_refused_register_and_dispatch_keeps_the_choice_and_names_the_field(world, client, new_case):
    case = new_case()
    other = Unit.objects.get(name="区城管执法局")
    client.force_login(world.user("jiangning"))
    response = client.post(
        reverse("case-action", args=[case.pk, "register_dispatch"]), {"assignee": other.pk, "note": "来电"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    form = page[page.index('id="action-register_dispatch"') :]
    form = form[: form.index("</form>")]
    assert selected(form, "assignee") == [str(other.pk)]  # what the dispatcher chose, not the suggestion
    assert re.search(
        r'name="reason".*?invalid-feedback[^>]*>[^<]*区房管局', form, re.S
    )  # on the reason field
    assert re.search(r">\s*来电</textarea>", form)
    case.refresh_from_db()
    assert case.stage == Stage.REPORTED


def test_register_and_dispatch_is_offered_only_to_the_dispatching_street(world, client, new_case):
    case = new_case()
    client.force_login(world.user("xinan"))
    assert "action-register_dispatch" not in client.get(case.get_absolute_url()).content.decode()
    response = client.post(
        reverse("case-action", args=[case.pk, "register_dispatch"]), {"assignee": world.department.pk}
    )
    assert response.status_code == 403
    client.force_login(world.user("shimen"))
    assert client.get(case.get_absolute_url()).status_code == 404


def test_the_api_registers_and_dispatches_in_one_request(world, client, new_case):
    case = new_case()
    client.force_login(world.user("jiangning"))
    url = reverse("api:case-register-and-dispatch", args=[case.pk])
    response = client.post(url, {"assignee": world.department.code}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == Stage.DISPATCHED


# The 派遣单 ------------------------------------------------------------------------------------------------


def test_the_dispatch_slip_prints_from_the_case_page(world, client, new_case):
    case = new_case(description="楼道堆物，影响消防通道")
    actor = world.user("jiangning")
    case = services.register_and_dispatch_case(actor=actor, case=case, assignee=world.department)
    client.force_login(actor)
    detail = client.get(case.get_absolute_url()).content.decode()
    slip_url = reverse("case-print", args=[case.pk])
    assert f'href="{slip_url}"' in detail
    page = client.get(slip_url).content.decode()
    assert "派遣单" in page and case.code in page and "区房管局" in page and "楼道堆物" in page
    assert "cases/slip.css" in page and "cases/print.js" in page and "data-print" in page
    assert "王先生" not in page and "13800138000" not in page  # the reporter stays masked
    client.force_login(world.user("shimen"))
    assert client.get(slip_url).status_code == 404


def test_the_slip_style_is_for_paper():
    from django.contrib.staticfiles import finders

    css = open(finders.find("cases/slip.css"), encoding="utf-8").read()
    assert "@media print" in css and "@page" in css


# The work queues -------------------------------------------------------------------------------------------


def dispatched_at(world, new_case, when):
    case = new_case(now=when)
    return services.register_and_dispatch_case(
        actor=world.user("jiangning"), case=case, assignee=world.department, now=when
    )


def test_new_cases_come_before_last_years_backlog_in_the_department_queue(world, new_case):
    now = timezone.now()
    old = [dispatched_at(world, new_case, now - datetime.timedelta(days=400 - n)) for n in range(4)]
    late = dispatched_at(world, new_case, now - datetime.timedelta(days=12))  # late by a few days
    new = [dispatched_at(world, new_case, now - datetime.timedelta(hours=n)) for n in (3, 2, 1)]
    order = list(queue_cases(world.user("fangguan"), QUEUES["assigned"], now=now))
    assert order[0] == late  # late this week: what needs doing now
    # then the new ones, due soonest (the same deadline: the newest first)
    assert order[1:4] == sorted(new, key=lambda case: (case.stage_deadline, -case.pk))
    # the backlog last, the most recently late first
    assert order[4:] == sorted(old, key=lambda case: (case.stage_deadline, case.pk), reverse=True)


def count_queries(client, url) -> tuple[int, int]:
    """(all queries, queries reading categories) of one page."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries), sum('FROM "cases_category"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize(("username", "queue"), [("fangguan", "assigned"), ("jiangning", "to-register")])
def test_a_queue_page_makes_as_many_queries_whatever_the_data(world, client, new_case, username, queue):
    client.force_login(world.user(username))
    url = reverse("case-queue", args=[queue])
    make = (lambda: dispatched_at(world, new_case, timezone.now())) if queue == "assigned" else new_case
    make()
    before = count_queries(client, url)
    for _ in range(12):
        make()
    after = count_queries(client, url)
    assert before == after, (before, after)
    assert after[1] == 1  # the category drop-down: one query
    assert after[0] <= 14, after


def test_a_queue_of_one_stage_offers_no_stage_to_pick_and_a_queue_of_several_does(world, client, new_case):
    case = new_case()
    client.force_login(world.user("jiangning"))
    one = client.get(reverse("case-queue", args=["to-register"])).content.decode()
    several = client.get(reverse("case-queue", args=["overdue"])).content.decode()
    assert 'name="stage"' not in one and 'name="stage"' in several
    assert 'name="status"' not in one and 'name="status"' not in several
    assert 'name="category"' in one and case.code in one
    # The category and street filters take codes, as the dashboard's links send them; a 大类 takes in
    # its 小类. The district office may pick any street; a street's own staff only theirs.
    client.force_login(world.user("district"))

    def count(street):
        query = {"category": case.category.parent.code, "street": street}
        response = client.get(reverse("case-list"), query)
        return response.context["table"].paginator.count, response.context["filter"].form.errors

    assert count("310106006") == (1, {})
    assert count("310106011") == (0, {})
    client.force_login(world.user("jiangning"))
    assert "street" in count("310106011")[1]  # not a street she may see: refused, not a silent list


def test_the_assignee_filter_is_typed_not_a_list_of_every_unit(world, client, new_case):
    case = dispatched_at(world, new_case, timezone.now())
    client.force_login(world.user("jiangning"))
    page = client.get(reverse("case-list")).content.decode()
    assert '<input type="text" name="assignee"' in page
    assert page.count("<option") < 150
    assert client.get(reverse("case-list"), {"assignee": "房管"}).context["table"].paginator.count == 1
    assert (
        client.get(reverse("case-list"), {"assignee": world.department.code}).context["table"].paginator.count
        == 1
    )
    assert client.get(reverse("case-list"), {"assignee": "城管"}).context["table"].paginator.count == 0
    assert case.assignee == world.department


def test_yes_no_filters_say_all_when_empty(world, client):
    client.force_login(world.user("jiangning"))
    page = client.get(reverse("case-list")).content.decode()
    overdue = re.search(r'<select name="overdue".*?</select>', page, re.S).group(0)
    assert ">全部</option>" in overdue and "未知" not in overdue
    assert client.get(reverse("case-list"), {"overdue": "true"}).status_code == 200


def test_notifications_have_chinese_headers(world, client, new_case):
    dispatched_at(world, new_case, timezone.now())
    client.force_login(world.user("fangguan"))
    page = client.get(reverse("notification-list")).content.decode()
    headers = re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?([^<]+)", page)
    assert "接收单位" in [h.strip() for h in headers] and "案件" in [h.strip() for h in headers]
    assert not any(re.search(r"[A-Za-z]{2,}", h) for h in headers), headers


# The grid worker verifies ----------------------------------------------------------------------------------


def test_a_grid_worker_finds_a_handled_case_in_to_verify_and_verifies_it_with_a_photo(
    world, client, new_case
):
    case = dispatched_at(world, new_case, timezone.now())
    fangguan = world.user("fangguan")
    case = services.accept_case(actor=fangguan, case=case)
    case = services.feedback_case(actor=fangguan, case=case, result="已责令清理")
    client.force_login(world.user("wangge"))
    listing = client.get(reverse("case-list")).content.decode()
    queue_url = reverse("case-queue", args=["to-verify"])
    assert f'href="{queue_url}"' in listing and "待核查" in listing
    queue = client.get(queue_url).content.decode()
    assert case.code in queue
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'id="action-verify_pass"' in page and 'type="file"' in page
    response = client.post(
        reverse("case-action", args=[case.pk, "verify_pass"]),
        {"passed": "1", "note": "现场已清理", "attachments": [photo()]},
    )
    assert response.status_code == 302
    assert "核查通过" in client.get(response["Location"]).content.decode()
    case = Case.objects.get(pk=case.pk)
    assert case.stage == Stage.CLOSED
    assert case.events.get(action="verify_pass").attachments.count() == 1
    assert case.code not in client.get(queue_url).content.decode()


def test_extra_answers_read_as_words(world, new_case):
    from shequ.cases.views import extra_attributes

    case = new_case()
    case.category.attributes = [{"code": "night", "description": "夜间发生"}]
    case.attributes = {"night": True, "floors": ["3楼", "4楼"]}
    assert extra_attributes(case) == [("夜间发生", "是"), ("floors", "3楼、4楼")]
