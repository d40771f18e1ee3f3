"""Each role's home page is its to-do list (issue 9, item 5), the menu bar shows the person and the unread
notifications, and the navigation offers only what the role may open (item 14)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shequ.cases.models import Notification
from shequ.navigation import todo_items

from .world import make_case_world

ROLES = [
    "admin",
    "district",
    "jiangning",
    "jiangning_admin",
    "shimen",
    "xinan",
    "wangge",
    "fangguan",
    "auditor",
]
# The to-do items each role works (cases.queues, summons, notifications).
EXPECTED = {
    "admin": {"已超时", "督办中", "未读通知"},
    "auditor": {"已超时", "督办中", "未读通知"},
    "district": {"待立案", "待派遣", "待核查", "已超时", "督办中", "未读通知"},
    "jiangning": {"待立案", "待派遣", "派给本单位", "待核查", "已超时", "督办中", "未读通知"},
    "xinan": {"派给本单位", "已超时", "督办中", "未读通知"},
    "wangge": {"待核查", "已超时", "督办中", "未读通知"},
    "fangguan": {"派给本单位", "已超时", "督办中", "待答复约请", "未读通知"},
}


@pytest.fixture
def cases_world(world):
    make_case_world(world)
    return world


def rows_listed(client, url: str) -> int:
    page = client.get(url)
    assert page.status_code == 200, url
    return int(re.search(r"共 (\d+) 条", page.content.decode()).group(1))


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_the_home_page_lists_the_work_of_the_role_and_each_count_is_its_list(client, cases_world, username):
    user = cases_world.user(username)
    items = todo_items(user)
    assert {item.title for item in items} == EXPECTED[username]
    client.force_login(user)
    page = client.get("/").content.decode()
    for item in items:
        assert item.url.replace("&", "&amp;") in page
        assert rows_listed(client, item.url) == item.count, item.title


def test_the_department_sees_its_dispatched_case_and_the_summons_first(client, cases_world):
    items = todo_items(cases_world.user("fangguan"))
    counts = {item.title: item.count for item in items}
    assert counts["派给本单位"] == 1 and counts["待答复约请"] == 1
    # Work waiting comes before empty items; among those, the summons (someone waits on it) first.
    waiting = [item.title for item in items if item.count]
    assert waiting.index("待答复约请") < waiting.index("派给本单位")
    assert all(item.count == 0 for item in items[len(waiting) :])


def test_the_home_page_costs_a_query_per_item_at_most(client, cases_world):
    client.force_login(cases_world.user("jiangning"))
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    # Session and user, memberships, 7 to-do items (+1 for the 派给本单位 units), the menu bar's unread
    # count, 5 registry counts, the top units.
    assert len(queries) <= 20, [query["sql"][:120] for query in queries]


@pytest.mark.parametrize("username", ROLES)
def test_every_menu_entry_opens(client, world, username):
    client.force_login(world.user(username))
    page = client.get("/").content.decode()
    menu = page.split('id="navbar-menu"')[1].split("</ul>")[0]
    for url in re.findall(r'class="dropdown-item[^"]*" href="([^"]+)"', menu):
        assert client.get(url).status_code == 200, f"{username}: {url}"


@pytest.mark.parametrize("username", ["admin", "auditor", "fangguan"])
def test_who_may_not_report_gets_no_report_entry(client, world, username):
    client.force_login(world.user(username))
    assert "登记案件" not in client.get("/").content.decode()


def test_the_menu_bar_shows_the_person_not_the_login_name(client, world):
    client.force_login(world.user("xinan"))
    page = client.get("/").content.decode()
    assert re.search(r'class="ps-2 navbar-person">新安居委会 陈社工<', page)
    assert ">xinan<" not in page


def test_the_unread_count_leads_to_the_unread_notifications(client, world):
    Notification.objects.create(unit=world.jn.area, message="新安的案件即将超时")
    Notification.objects.create(unit=world.sm.area, message="石门的通知")
    client.force_login(world.user("xinan"))
    page = client.get("/").content.decode()
    link = re.search(r'<a href="([^"]+)" class="nav-link px-2" id="unread-notifications"', page).group(1)
    assert link == reverse("notification-list") + "?unread=true"
    assert re.search(r'unread-count">1<', page)
    assert rows_listed(client, link) == 1


def test_an_anonymous_visitor_gets_no_empty_menu(client):
    page = client.get(reverse("login")).content.decode()
    assert "navbar-toggler" not in page
    assert reverse("public-report") in page


# Lists in Chinese and without dead ends (issue 9, item 8) -----------------------------------------------


def tag_table(user):
    import django_tables2 as tables
    from django.test import RequestFactory
    from django_tables2 import RequestConfig

    from shequ.core.tables import editable_link
    from shequ.registry.models import ResidentTag

    class TagTable(tables.Table):
        name = tables.Column(linkify=editable_link("residenttag-edit"))

        class Meta:
            model = ResidentTag
            fields = ["name"]

    request = RequestFactory().get("/resident-tags/")
    request.user = user
    table = TagTable(ResidentTag.objects.restrict(user, "view").order_by("pk"))
    RequestConfig(request, paginate={"per_page": 10}).configure(table)
    return table.as_html(request)


def test_edit_links_appear_only_for_who_may_edit(world):
    edit = reverse("residenttag-edit", args=[world.tag.pk])
    assert edit in tag_table(world.user("district"))
    assert edit not in tag_table(world.user("xinan"))  # reads the tags, may not change them (403)
    assert world.tag.name in tag_table(world.user("xinan"))


def test_edit_links_cost_one_query_for_the_page(world):
    user = world.user("district")
    tag_table(user)
    with CaptureQueriesContext(connection) as queries:
        tag_table(user)
    # The count, the page's rows, the changeable rows among them.
    assert len(queries) <= 3


def test_a_yes_no_filter_offers_all_not_unknown():
    from shequ.core.filters import FilterSet, YesNoFilter
    from shequ.registry.models import ResidentTag

    class TagFilter(FilterSet):
        overdue = YesNoFilter(label="超时", field_name="is_active")

        class Meta:
            model = ResidentTag
            fields = ["is_active"]

    form = TagFilter({}, queryset=ResidentTag.objects.none()).form
    for name in ("overdue", "is_active"):
        html = str(form[name])
        assert '<option value="" selected>全部</option>' in html, html
        assert "未知" not in html and "Unknown" not in html
        assert '<option value="true">是</option>' in html
    chosen = TagFilter({"is_active": "false"}, queryset=ResidentTag.objects.none()).form
    assert chosen.is_valid() and chosen.cleaned_data["is_active"] is False
    html = str(chosen["is_active"])
    assert '<option value="false" selected>否</option>' in html and '<option value="" selected>' not in html


def test_the_department_page_reads_yes_not_true(client, world):
    client.force_login(world.user("jiangning"))
    page = client.get(reverse("department-detail", args=[world.department.code])).content.decode()
    assert "True" not in page and "False" not in page
    assert ">是<" in page


def test_the_home_page_offers_what_the_role_starts_most(client, world):
    client.force_login(world.user("xinan"))
    page = client.get("/").content.decode()
    assert (
        f'href="{reverse("case-add")}">登记案件' in page
        and f'href="{reverse("resident-add")}">新增居民' in page
    )
    client.force_login(world.user("auditor"))
    page = client.get("/").content.decode()
    assert f'href="{reverse("case-add")}"' not in page and f'href="{reverse("resident-add")}"' not in page
