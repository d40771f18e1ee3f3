"""数据看板 and 部门考评: the figures on a small hand-built set, their scope, and a fixed number of queries."""

import datetime
import io
import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from shequ.cases import selectors, services
from shequ.cases.models import Case, CaseEvent, Supervision
from shequ.cases.seed import load_categories, load_rules
from shequ.core.workdays import SHANGHAI
from shequ.org.models import Unit


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=SHANGHAI)


def later(moment: datetime.datetime, days: int) -> datetime.datetime:
    return moment + datetime.timedelta(days=days)


class Cases:
    """Five cases in 2025, four in 江宁路 (新安) and one in 石门二路:

    A 群租 → 区房管局, handled on time, 满意          B 群租 → 区房管局, handled late, 基本满意
    C 暴露垃圾 → 区房管局 (by mistake), 退单, 改派 to 江宁路街道, on time, not rated
    D 噪声扰民 → 公安静安分局, still handling, overdue and supervised
    E 占道经营 (石门二路) → 区城管执法局, on time, 不满意 (no reopening in these tests)
    and a summons of 区房管局 by 江宁路街道 about B, answered on time and rated 4 (timeliness) and 5 (result)."""

    def __init__(self, world):
        self.world = world
        self.categories = load_categories()
        load_rules(self.categories)
        self.street = world.user("jiangning")
        self.dept = world.user("fangguan")
        self.fangguan = world.department
        self.a = self.closed("S0301", world.jn.group, at("2025-03-03"), rating="satisfied")
        self.b = self.closed("S0301", world.jn.group, at("2025-03-04"), rating="basically", late=True)
        self.c = self.returned(world.jn.estate, at("2025-04-01"))
        self.d = self.open_overdue(world.jn.group, at("2025-04-02"))
        self.e = self.closed("E0501", world.sm.group, at("2025-05-06"), rating="unsatisfied")
        summons = services.summon_department(
            actor=self.street,
            street=world.jn.area.parent,
            department=self.fangguan,
            reason="群租反复",
            request="请说明",
            cases=[self.b],
            now=at("2025-03-20"),
        )
        summons = services.answer_summons(
            actor=self.dept, summons=summons, accepted=True, answer="已处理", now=at("2025-03-21")
        )
        services.close_summons(
            actor=self.street,
            summons=summons,
            outcome="办结",
            rating_timeliness=4,
            rating_result=5,
            now=at("2025-03-25"),
        )

    def report(self, code, place, when):
        case = services.report_case(
            actor=None,
            source="hotline",
            category=self.categories[code],
            description="测试",
            unit=place.unit,
            **self.where(place),
            now=when,
        )
        return services.register_case(actor=None, case=case, now=when + datetime.timedelta(minutes=30))

    @staticmethod
    def where(place):
        return {"building_group": place} if hasattr(place, "building") else {"estate": place}

    def handle(self, case, start, *, late=False):
        case = services.accept_case(actor=None, case=case, now=start + datetime.timedelta(hours=1))
        done = later(start, 20) if late else start + datetime.timedelta(hours=3)
        case = services.feedback_case(actor=None, case=case, result="已处置", now=done)
        return services.verify_case(
            actor=None, case=case, passed=True, now=done + datetime.timedelta(hours=1)
        )

    def closed(self, code, place, when, *, rating, late=False):
        case = self.report(code, place, when)
        start = when + datetime.timedelta(hours=1)
        case = services.dispatch_case(
            actor=None, case=case, assignee=services.propose_assignee(case), now=start
        )
        case = self.handle(case, start, late=late)
        return services.rate_case(actor=None, case=case, rating=rating, channel="phone", now=later(start, 25))

    def returned(self, place, when):
        case = self.report("E0101", place, when)
        start = when + datetime.timedelta(hours=1)
        case = services.dispatch_case(actor=None, case=case, assignee=self.fangguan, reason="误派", now=start)
        case = services.return_case(
            actor=self.dept, case=case, reason="不是本部门职责", now=start + datetime.timedelta(hours=1)
        )
        start = start + datetime.timedelta(hours=2)
        case = services.dispatch_case(actor=None, case=case, assignee=self.world.jn.area.parent, now=start)
        return self.handle(case, start)

    def open_overdue(self, place, when):
        case = self.report("S0202", place, when)
        start = when + datetime.timedelta(hours=1)
        case = services.dispatch_case(
            actor=None, case=case, assignee=services.propose_assignee(case), now=start
        )
        case = services.accept_case(actor=None, case=case, now=start + datetime.timedelta(hours=1))
        services.sweep_deadlines(now=later(start, 10))  # overdue; supervised a day after (the grace)
        services.sweep_deadlines(now=later(start, 12))
        return Case.objects.get(pk=case.pk)


@pytest.fixture
def cases(world, settings):
    settings.SHEQU_CASE_REOPEN_LIMIT = 0  # 不满意 is counted, without reopening the case
    return Cases(world)


def dashboard(client, world, username, **params):
    client.force_login(world.user(username))
    response = client.get(reverse("case-dashboard"), {"year": "2025", **params})
    assert response.status_code == 200, response.status_code
    return response.context["data"]


def assessment(client, world, username, period="2025"):
    client.force_login(world.user(username))
    response = client.get(reverse("case-assessment"), {"period": period})
    assert response.status_code == 200
    return {row.name: row for row in response.context["result"].rows}, response.context["result"]


# The dashboard -------------------------------------------------------------------------------------------


def test_the_district_figures_add_up(client, world, cases):
    data = dashboard(client, world, "district")
    assert data.unit.kind == "district"
    assert data.total.cases == 5
    assert (data.total.on_time.numerator, data.total.on_time.denominator) == (3, 4)  # B was late, D is open
    assert (data.total.satisfaction.numerator, data.total.satisfaction.denominator) == (2, 3)  # E 不满意
    assert data.total.returns == 1
    assert (data.open, data.overdue, data.supervised) == (1, 1, 1)
    rows = {row.name: row for row in data.rows}
    assert rows["江宁路街道"].cases == 4 and rows["石门二路街道"].cases == 1
    assert rows["江宁路街道"].on_time == selectors.Rate(2, 3)
    # The headline rate is the sum of the rows' counts, not the average of their rates.
    assert sum((row.on_time for row in data.rows), selectors.Rate()) == data.total.on_time


def test_volume_is_by_big_class_and_month(client, world, cases):
    data = dashboard(client, world, "district")
    assert [month.month for month in data.months] == list(range(1, 13))
    volume = dict(data.volume)
    assert volume["房屋管理"][2] == 2  # A and B, March
    assert volume["市容环境（事件）"][3] == 1  # C, April (a 部件 class has the same name)
    assert volume["邻里关系"][3] == 1 and volume["街面秩序"][4] == 1
    assert sum(sum(counts) for counts in volume.values()) == 5


def test_returns_places_and_departments(client, world, cases):
    data = dashboard(client, world, "district")
    assert data.returns_by_unit == [("区房管局", 1)]
    assert data.estates[0].label == world.jn.estate.name and data.estates[0].cases == 4
    assert data.groups[0].cases == 3  # A, B and D at 新安's building group
    ranking = {row.name: row for row in data.departments}
    assert ranking["区房管局"].cases == 2 and ranking["区房管局"].on_time == selectors.Rate(1, 2)
    assert ranking["区城管执法局"].on_time == selectors.Rate(1, 1)
    assert ranking["公安静安分局"].on_time.value is None
    assert [row.name for row in data.departments][0] == "区城管执法局"  # best on-time rate first


def test_the_page_draws_its_chart_from_json_without_inline_script(client, world, cases):
    client.force_login(world.user("district"))
    page = client.get(reverse("case-dashboard"), {"year": "2025"}).content.decode()
    assert '<script id="case-dashboard-data" type="application/json">' in page
    assert "cases/dashboard.js" in page and "vendor/echarts/echarts.min.js" in page
    scripts = [chunk.split(">", 1)[0] for chunk in page.split("<script")[1:]]
    assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), scripts


def test_a_street_sees_only_its_own_cases(client, world, cases):
    data = dashboard(client, world, "jiangning")
    assert data.unit.code == "310106006"
    assert data.total.cases == 4
    assert {row.name for row in data.rows} == {"新安居委会"}
    assert all(row.name != "区城管执法局" for row in data.departments)
    client.force_login(world.user("shimen"))
    assert client.get(reverse("case-dashboard"), {"unit": "310106006"}).status_code == 404
    assert client.get(reverse("case-dashboard"), {"unit": world.department.code}).status_code == 404


def test_a_street_may_pick_one_of_its_residential_areas(client, world, cases):
    data = dashboard(client, world, "jiangning", unit=world.jn.area.code)
    assert data.unit == world.jn.area and data.total.cases == 4
    assert [row.name for row in data.rows] == ["新安居委会（本级）"]


def test_a_district_role_may_pick_a_street_or_a_department(client, world, cases):
    assert dashboard(client, world, "auditor", unit="310106011").total.cases == 1
    data = dashboard(client, world, "district", unit=world.department.code)
    assert data.total.cases == 2  # A and B: C went elsewhere after its return


def test_a_department_sees_what_was_sent_to_it(client, world, cases):
    data = dashboard(client, world, "fangguan")
    assert data.unit == world.department
    assert data.total.cases == 2
    client.force_login(world.user("fangguan"))
    assert client.get(reverse("case-dashboard"), {"unit": "310106006"}).status_code == 404


def test_the_default_period_is_the_year_up_to_the_latest_case(client, world, cases):
    client.force_login(world.user("district"))
    response = client.get(reverse("case-dashboard"))
    period = response.context["period"]
    assert period.key == "" and period.end == at("2025-06-01", 0)
    assert response.context["data"].total.cases == 5


def test_a_malformed_year_falls_back_to_the_default(client, world, cases):
    client.force_login(world.user("district"))
    response = client.get(reverse("case-dashboard"), {"year": "2025-13"})
    assert response.status_code == 200 and response.context["period"].key == ""


def listed(client, url: str) -> int:
    """How many cases the list at `url` says it holds (共 N 条)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["table"].paginator.count


@pytest.mark.parametrize(
    ("username", "unit"),
    [
        ("district", ""),
        ("district", "310106006"),
        ("district", "区房管局"),
        ("jiangning", ""),
        ("jiangning", "新安"),
        ("fangguan", ""),
    ],
)
def test_every_figure_links_to_a_list_as_long_as_the_figure(client, world, cases, username, unit):
    unit = {"区房管局": world.department.code, "新安": world.jn.area.code}.get(unit, unit)
    client.force_login(world.user(username))
    response = client.get(reverse("case-dashboard"), {"year": "2025", **({"unit": unit} if unit else {})})
    page, data, urls = response.content.decode(), response.context["data"], response.context["figure_urls"]
    figures = {
        "cases": data.total.cases,
        "closed": data.total.on_time.denominator,
        "closed_on_time": data.total.on_time.numerator,
        "rated": data.total.satisfaction.denominator,
        "satisfied": data.total.satisfaction.numerator,
        "returned": data.total.returned_cases,
        "open": data.open,
        "overdue": data.overdue,
        "supervised": data.supervised,
    }
    assert set(urls) == set(figures)
    assert figures["cases"] > 0
    for name, count in figures.items():
        assert f'href="{urls[name].replace("&", "&amp;")}"' in page, name
        assert listed(client, urls[name]) == count, (name, urls[name])
    rows = [row for row in data.rows + data.departments if getattr(row, "url", "")]
    assert rows
    for row in rows:
        assert row.url.replace("&", "&amp;") in page
        assert listed(client, row.url) == row.cases, (row.name, row.url)


def test_the_figures_a_street_sees_now_are_its_queues(client, world, cases):
    """当前超时 and 督办中 of a street's own dashboard count what its 已超时 and 督办中 queues list."""
    data = dashboard(client, world, "jiangning")
    assert (data.overdue, data.supervised) == (1, 1)
    for queue, count in (("overdue", data.overdue), ("supervised", data.supervised)):
        assert listed(client, reverse("case-queue", args=[queue])) == count


def grow(factor: int) -> None:
    """Copy every case (with its timeline and supervisions) `factor` more times, as rows."""
    originals = list(Case.objects.all())
    events = list(CaseEvent.objects.all())
    supervisions = list(Supervision.objects.all())
    for round_ in range(factor):
        copies = {}
        for case in originals:
            copy = Case.objects.get(pk=case.pk)
            copy.pk = None
            copy.code = f"{case.code}-{round_}"
            copy.public_token = secrets.token_urlsafe(24)
            copies[case.pk] = copy
        Case.objects.bulk_create(copies.values())
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case=copies[e.case_id],
                    action=e.action,
                    stage_from=e.stage_from,
                    stage_to=e.stage_to,
                    unit_id=e.unit_id,
                    created_at=e.created_at,
                )
                for e in events
            ]
        )
        Supervision.objects.bulk_create(
            [
                Supervision(
                    case=copies[s.case_id],
                    reason=s.reason,
                    opened_at=s.opened_at,
                    deadline=s.deadline,
                    status=s.status,
                )
                for s in supervisions
            ]
        )


def count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["district", "jiangning", "fangguan"])
def test_the_pages_make_a_fixed_number_of_queries(client, world, cases, username):
    client.force_login(world.user(username))
    pages = [(reverse("case-dashboard"), {"year": "2025"}), (reverse("case-assessment"), {"period": "2025"})]
    before = [count_queries(client, url, params) for url, params in pages]
    grow(4)
    data = dashboard(client, world, username)
    assert data.total.cases in (25, 20, 10)
    after = [count_queries(client, url, params) for url, params in pages]
    assert before == after
    assert before[0] <= 16 and before[1] <= 12, before


# The assessment ------------------------------------------------------------------------------------------


def test_the_district_assesses_every_department(client, world, cases):
    rows, result = assessment(client, world, "district")
    assert len(rows) == Unit.objects.filter(kind="department").count()
    housing = rows["区房管局"]
    assert housing.received == 3  # A, B and C (C's dispatch counts although C was returned)
    assert housing.returns == 1 and housing.redispatched == 0
    assert housing.on_time == selectors.Rate(1, 2)
    assert housing.satisfaction == selectors.Rate(2, 2)
    assert housing.summonses == 1 and housing.summons_on_time == selectors.Rate(1, 1)
    assert housing.timeliness.value == 4 and housing.result.value == 5
    assert rows["区城管执法局"].satisfaction == selectors.Rate(0, 1)
    assert rows["公安静安分局"].received == 1 and rows["公安静安分局"].on_time.value is None
    assert result.total.received == 5 and result.total.returns == 1 and not result.partial


def test_a_department_sees_only_its_own_row(client, world, cases):
    rows, result = assessment(client, world, "fangguan")
    assert list(rows) == ["区房管局"]
    assert rows["区房管局"].received == 3 and rows["区房管局"].returns == 1
    assert rows["区房管局"].summonses == 1


def test_a_street_sees_the_departments_on_its_own_cases(client, world, cases):
    rows, result = assessment(client, world, "jiangning")
    assert result.partial
    assert rows["区房管局"].received == 3 and rows["区房管局"].summonses == 1
    assert rows["区城管执法局"].received == 0  # E is in 石门二路
    rows, _result = assessment(client, world, "shimen")
    assert rows["区城管执法局"].received == 1 and rows["区房管局"].received == 0
    assert rows["区房管局"].summonses == 0


def test_a_committee_has_no_assessment(client, world, cases):
    client.force_login(world.user("xinan"))
    assert client.get(reverse("case-assessment")).status_code == 403


def test_periods_narrow_the_assessment(client, world, cases):
    rows, _result = assessment(client, world, "district", period="2025-Q2")
    assert rows["区房管局"].received == 1 and rows["区房管局"].returns == 1  # C in April
    rows, _result = assessment(client, world, "district", period="2025-03")
    assert rows["区房管局"].received == 2 and rows["区房管局"].summonses == 1


def test_the_assessment_downloads_as_excel(client, world, cases):
    client.force_login(world.user("district"))
    response = client.get(reverse("case-assessment"), {"period": "2025", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "部门" and rows[-1][0] == "合计"
    housing = next(row for row in rows if row[0] == "区房管局")
    assert housing[1] == 3 and housing[2] == 0.5


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2025", "2025-01-01", "2026-01-01"),
        ("2025-Q3", "2025-07-01", "2025-10-01"),
        ("2025-q4", "2025-10-01", "2026-01-01"),
        ("2025-07", "2025-07-01", "2025-08-01"),
    ],
)
def test_periods_parse(text, start, end):
    period = selectors.parse_period(text)
    assert period.start == at(start, 0) and period.end == at(end, 0)


@pytest.mark.parametrize("text", ["", "2025-Q5", "2025-13", "25", "abc", "1999"])
def test_bad_periods_are_refused(text):
    with pytest.raises(ValueError):
        selectors.parse_period(text)
