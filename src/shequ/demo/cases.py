"""A year of synthetic cases for the demo district, and the district scale of the benchmarks.

`load_demo_cases(count)` draws `count` cases over the 12 months up to the moment it runs (the demo's
dates end on the day it is loaded, so that its dashboards and the Open311 feed's default 90 days show
them; a `now` or `today` fixes the moment, and with it and the seed the cases are the same every time)
and plays each one through the stages the services would: 受理, 立案,
派遣 to the unit the responsibility list names (services.matching_rule / responsible_unit), 签收,
反馈, 核查, 结案 and the reporter's rating, with times from the working-day calendar. Some cases are
returned (退单) and re-dispatched, some handled late, some still open (the last weeks, and a few stuck
ones that are overdue and under supervision); some 不满意 ratings reopen the case once. Streets summon
(约请) the departments that were late or returned cases, and rate their answers.

A few of the newest cases are held in the queues of the demo accounts (INBOX: 待立案 and 待派遣 for the
江宁路 dispatcher, 待核查 for its grid worker, 派给本单位 and a summons to answer for 区房管局, cases and
notifications for 新安居委会), so that each role's home page has work on it on first start. The
notifications of the last weeks are those the services would have sent.

Rows are built in Python and written with bulk_create in chunks (cases, their timeline events,
supervisions, summonses, notifications), with one audit entry per model loaded. Idempotent: nothing is loaded when any
case exists. Codes follow CaseSequence (JA2025-0000001), which is left at the last number used."""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from shequ.cases import services
from shequ.cases.choices import (
    Action,
    CategoryKind,
    Rating,
    RatingChannel,
    Source,
    Stage,
    SummonsStatus,
    Urgency,
)
from shequ.cases.models import (
    Case,
    CaseEvent,
    CaseSequence,
    Category,
    Notification,
    ResponsibilityRule,
    Summons,
    Supervision,
)
from shequ.core import crypto, workdays
from shequ.core.audit import record_bulk_load
from shequ.core.personal_data import mask_phone
from shequ.core.progress import Progress
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Membership, Unit, User
from shequ.org.roles import Role
from shequ.registry.models import BuildingGroup, Estate, Grid

from .names import ROAD_NAMES, SURNAMES

# The sizes the demo loader asks for: `make demo`, and a Jing'an-sized year (DESIGN.md, Scale).
CASE_COUNTS = {"demo": 8_000, "district": 300_000}
SEED = 20250630
NOTIFY_DAYS = 30  # notifications are made for the last weeks only: older ones would all have been read
CHUNK = 5_000
SHANGHAI = workdays.SHANGHAI

SOURCES = {
    Source.HOTLINE: 45,
    Source.GRID_PATROL: 35,
    Source.RESIDENT: 10,
    Source.COMMITTEE: 5,
    Source.LEADER: 2,
    Source.OTHER: 3,
}
# Small classes by how often they come up in a central Shanghai district's 一网统管 (garbage, flyers,
# street trading, group renting, noise, illegal building, property service and lifts lead).
CATEGORIES = {
    "E0101": 14,
    "E0201": 10,
    "E0501": 9,
    "S0101": 10,
    "S0202": 8,
    "S0301": 7,
    "S0302": 6,
    "S0303": 4,
    "E0103": 4,
    "E0102": 3,
    "E0503": 4,
    "E0502": 3,
    "S0201": 4,
    "C0104": 2,
    "C0101": 1,
    "C0102": 1,
    "C0103": 1,
    "C0105": 0.5,
    "C0201": 1,
    "C0202": 1,
    "C0203": 2,
    "C0301": 1.5,
    "C0302": 0.5,
    "C0303": 1,
    "C0401": 1.5,
    "C0402": 1,
    "C0501": 1,
    "C0502": 0.5,
    "E0202": 1,
    "E0301": 2,
    "E0302": 0.5,
    "E0401": 1,
    "E0402": 1,
    "E0403": 0.3,
    "S0102": 1,
    "S0304": 1,
    "S0401": 1.5,
}
# Grid workers find what is on the street; residents call about their homes.
KIND_FACTOR = {
    Source.GRID_PATROL: {CategoryKind.COMPONENT: 1.8, CategoryKind.EVENT: 1.8, CategoryKind.COMMUNITY: 0.25},
    Source.HOTLINE: {CategoryKind.COMPONENT: 0.6, CategoryKind.EVENT: 0.8, CategoryKind.COMMUNITY: 1.5},
    Source.RESIDENT: {CategoryKind.COMPONENT: 0.6, CategoryKind.EVENT: 0.8, CategoryKind.COMMUNITY: 1.5},
}
DESCRIPTIONS = {
    "E0101": ["{place}有暴露垃圾，已堆放多日，气味较大。", "{place}垃圾箱房外散落生活垃圾，请及时清运。"],
    "E0102": ["{place}堆有装修垃圾和渣土，未及时清运。"],
    "E0103": ["{place}路面有油污和杂物，道路不洁。"],
    "E0201": ["{place}墙面、电线杆上张贴大量非法小广告。", "{place}楼道内被喷涂办证小广告。"],
    "E0501": ["{place}有摊贩占道经营，影响行人通行。", "{place}沿街商铺出店经营，占用人行道。"],
    "E0502": ["{place}有无照游商流动叫卖。"],
    "E0503": ["{place}乱堆物料，占用公共通道。"],
    "S0101": [
        "{place}物业服务不到位：公共区域保洁不及时，报修无人处理。",
        "{place}物业对楼道灯损坏长期不修。",
    ],
    "S0102": ["{place}业委会换届工作进展缓慢，居民有意见。"],
    "S0201": ["{place}上下楼邻居因漏水发生纠纷，需要调解。"],
    "S0202": ["{place}夜间噪声扰民，影响休息。", "{place}有商户夜间装卸货物噪声很大。"],
    "S0301": ["{place}疑似群租，频繁有多人进出，存在安全隐患。"],
    "S0302": ["{place}有住户在屋顶平台违法搭建。", "{place}底楼住户私自扩建围墙、搭建棚屋。"],
    "S0303": ["{place}居民咨询加装电梯进度，希望加快推进。", "{place}加装电梯施工影响通行，居民有意见。"],
    "S0304": ["{place}旧住房修缮后仍有渗漏。"],
    "S0401": ["{place}独居老人希望申请助餐服务。"],
}
RESULTS = [
    "已到现场处置完毕，现场已恢复。",
    "已联系相关责任人整改到位。",
    "已约谈当事人并督促整改，复查合格。",
    "已安排专人清理并加强巡查。",
]
RETURN_REASONS = [
    "经核实不属于本单位职责，请改派。",
    "地址不在本单位管辖范围内。",
    "该事项已由其他部门立案处理。",
]


@dataclass(frozen=True)
class InboxItem:
    """Newest cases held at a stage, where a demo account finds them in its queues."""

    within: str  # the statistical code of the street or residential area the cases are in
    stages: tuple[str, ...]  # the stages they wait at (the last one is where the case stops)
    count: int
    hours: tuple[float, float]  # reported this many (calendar) hours before the load
    categories: tuple[str, ...] = ()  # small classes; none: drawn like any case
    assignee: str = ""  # the unit (by name) they must have been dispatched to
    overdue: bool = False  # past the handling limit and not handled: overdue, then supervised
    summons: bool = False  # the street has summoned the assignee about them; the answer is due


JIANGNING, XINAN = "310106006", "310106006002"
ASSIGNED = (Stage.DISPATCHED, Stage.HANDLING)
INBOX = [
    # jiangning, the street's dispatcher: 待立案 and 待派遣.
    InboxItem(JIANGNING, (Stage.REPORTED,), 3, (0.3, 3)),
    InboxItem(JIANGNING, (Stage.REGISTERED,), 3, (2, 8)),
    # wangge, the street's grid worker: matters the street handled itself, to verify on the spot (待核查).
    InboxItem(JIANGNING, (Stage.HANDLED,), 3, (20, 80), ("E0101", "E0503", "C0301")),
    # fangguan, 区房管局: housing matters dispatched to it (派给本单位), and a summons to answer.
    InboxItem(JIANGNING, ASSIGNED, 4, (3, 60), ("S0101", "S0301", "S0303"), "区房管局", summons=True),
    # xinan, 新安居委会: neighbour disputes the responsibility list sends to the committee (its
    # notifications: 新派遣案件), one of them overdue and supervised (已超时, 已被督办).
    InboxItem(XINAN, ASSIGNED, 2, (3, 40), ("S0201",)),
    InboxItem(XINAN, ASSIGNED, 1, (200, 320), ("S0201",), overdue=True),
]


@dataclass
class DemoCasesReport:
    cases: int = 0
    events: int = 0
    supervisions: int = 0
    summonses: int = 0
    notifications: int = 0

    def lines(self) -> list[str]:
        return [
            f"案件 {self.cases}，流转记录 {self.events}，督办 {self.supervisions}，约请 {self.summonses}，"
            f"通知 {self.notifications}"
        ]


@dataclass
class _Place:
    unit: Unit
    estate_id: int | None = None
    group_id: int | None = None
    housing_type: str = ""
    address: str = ""
    text: str = ""


@dataclass
class _Timeline:
    """One case played forward: each step moves it and leaves an event, until a step falls after `now`
    (the case is then still at the stage it had reached)."""

    now: datetime.datetime
    fields: dict
    events: list = field(default_factory=list)
    supervisions: list = field(default_factory=list)
    cut: bool = False
    transitions: int = 0
    hold: str | None = None  # a stage the case does not leave (INBOX)

    def step(self, at, action, stage_to=None, *, unit=None, actor="", note="", **changes) -> bool:
        stage_from = self.fields["stage"]
        stage_to = stage_to or stage_from
        if self.cut or at > self.now or (stage_from == self.hold and stage_to != stage_from):
            self.cut = True
            return False
        self.events.append((action, stage_from, stage_to, unit, actor, note, at))
        if stage_to != stage_from:
            self.fields.update(stage=stage_to, stage_started_at=at, warned=False, overdue=False)
            self.transitions += 1
        self.fields.update(changes)
        return True


class _World:
    """The district as the loader needs it, read once: units, places, grids, rules by key."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.units = {unit.pk: unit for unit in Unit.objects.filter(is_active=True).select_related("parent")}
        self.areas = sorted(
            (u for u in self.units.values() if u.kind == UnitKind.NEIGHBORHOOD), key=lambda u: u.code
        )
        self.departments = sorted(
            (u for u in self.units.values() if u.kind == UnitKind.DEPARTMENT), key=lambda u: u.code
        )
        self.categories = {
            c.code: c
            for c in Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent")
        }
        self.categories_by_pk = {c.pk: c for c in self.categories.values()}
        self.grids: dict[int, list[int]] = defaultdict(list)
        for grid_id, area_id in Grid.objects.filter(neighborhoods__isnull=False).values_list(
            "pk", "neighborhoods"
        ):
            self.grids[area_id].append(grid_id)
        # Popular places: a few estates (and building groups in them) gather many complaints.
        self.estates = [
            (pk, unit_id, housing, address, name)
            for pk, unit_id, housing, address, name in Estate.objects.order_by("pk").values_list(
                "pk", "unit_id", "housing_type", "address", "name"
            )
            if unit_id in self.units
        ]
        estate_weight = {row[0]: min(rng.paretovariate(1.3), 40.0) for row in self.estates}
        by_estate = {row[0]: row for row in self.estates}
        self.groups = [
            row
            for row in BuildingGroup.objects.order_by("pk").values_list(
                "pk", "building__estate_id", "building__number", "name"
            )
            if row[1] in by_estate
        ]
        self.by_estate = by_estate
        self.estate_cum = list(itertools.accumulate(estate_weight[row[0]] for row in self.estates))
        self.group_cum = list(
            itertools.accumulate(estate_weight[row[1]] * rng.uniform(0.3, 1.7) for row in self.groups)
        )
        area_weight = [rng.uniform(0.5, 2.0) for _area in self.areas]
        self.area_cum = list(itertools.accumulate(area_weight))
        codes = [code for code in CATEGORIES if code in self.categories]
        self.category_codes = codes
        self.category_cum = {
            source: list(
                itertools.accumulate(
                    CATEGORIES[code] * KIND_FACTOR.get(source, {}).get(self.categories[code].kind, 1.0)
                    for code in codes
                )
            )
            for source in SOURCES
        }
        self._rules: dict[tuple, object] = {}
        self._scopes: dict[int, list[str]] = defaultdict(list)
        self._typed: set[int] = set()
        named: set[int] = set()
        for category_id, scope_path, housing, unit_id in ResponsibilityRule.objects.filter(
            is_active=True
        ).values_list("category_id", "scope__path", "housing_type", "responsible_unit_id"):
            self._scopes[category_id].append(scope_path)
            if housing:
                self._typed.add(category_id)
            if unit_id:
                named.add(unit_id)
        # A returned case goes to a department that handles such matters at all (one the responsibility
        # list names), not to any department of the district.
        self.handling_departments = [
            unit for unit in self.departments if unit.pk in named
        ] or self.departments

    def street_of(self, unit: Unit) -> Unit:
        return unit if unit.kind in STREET_KINDS else self.units[unit.parent_id]

    def rule(self, category: Category, unit: Unit, housing: str):
        """services.matching_rule, asked once per distinct answer: it depends only on which rule scopes
        contain the place and, for categories with housing-specific rules, on the housing type."""
        scopes = tuple(sorted(p for p in self._scopes.get(category.pk, ()) if unit.path.startswith(p)))
        key = (category.pk, scopes, housing if category.pk in self._typed else "")
        if key not in self._rules:
            self._rules[key] = services.matching_rule(category, unit, housing)
        return self._rules[key]

    def place(self, kind: str, within: Unit | None = None) -> _Place:
        """Where a case is: popular places more often. `within`: a place under that unit, any of them."""
        rng = self.rng
        groups = estates = areas = None
        if within is not None:
            inside = {pk for pk, unit in self.units.items() if unit.path.startswith(within.path)}
            groups = [row for row in self.groups if self.by_estate[row[1]][1] in inside]
            estates = [row for row in self.estates if row[1] in inside]
            areas = [area for area in self.areas if area.pk in inside] or [within]
        # Community matters are at a building group; street matters mostly on a road, else in an estate.
        if (
            kind == CategoryKind.COMMUNITY
            and (self.groups if groups is None else groups)
            and rng.random() < 0.85
        ):
            group_id, estate_id, number, name = (
                self.groups[bisect.bisect(self.group_cum, rng.random() * self.group_cum[-1])]
                if groups is None
                else rng.choice(groups)
            )
            _pk, unit_id, housing, address, estate_name = self.by_estate[estate_id]
            return _Place(
                self.units[unit_id], estate_id, group_id, housing, address, f"{estate_name}{number}{name}"
            )
        if (self.estates if estates is None else estates) and (
            kind == CategoryKind.COMMUNITY or rng.random() < 0.4
        ):
            estate_id, unit_id, housing, address, estate_name = (
                self.estates[bisect.bisect(self.estate_cum, rng.random() * self.estate_cum[-1])]
                if estates is None
                else rng.choice(estates)
            )
            return _Place(self.units[unit_id], estate_id, None, housing, address, estate_name)
        if areas is None:
            area = self.areas[bisect.bisect(self.area_cum, rng.random() * self.area_cum[-1])]
        else:
            area = rng.choice(areas)
        road = f"{rng.choice(ROAD_NAMES)}{rng.randint(1, 1500)}号"
        return _Place(area, address=road, text=f"{road}附近")

    def category(self, source: str) -> Category:
        cum = self.category_cum[source]
        return self.categories[self.category_codes[bisect.bisect(cum, self.rng.random() * cum[-1])]]


def _report_times(
    rng: random.Random, count: int, now: datetime.datetime
) -> list[tuple[datetime.datetime, str]]:
    """When each case came in, and from where: more on working days and in summer, by the source's hours;
    none after `now`."""
    today = now.date()
    until = now.hour + now.minute / 60 - 0.25  # today's cases came in before the load
    days = [today - datetime.timedelta(days=back) for back in range(364, -1, -1)]
    weights = [
        (1.0 if workdays.is_working_day(day) else 0.55)
        * (1 + 0.12 * math.cos(2 * math.pi * (day.month - 7) / 12))
        for day in days
    ]
    day_cum = list(itertools.accumulate(weights))
    source_names, source_cum = list(SOURCES), list(itertools.accumulate(SOURCES.values()))
    hours = {Source.GRID_PATROL: (8.5, 17.0), Source.HOTLINE: (7.0, 22.0)}
    times = []
    while len(times) < count:
        day = days[bisect.bisect(day_cum, rng.random() * day_cum[-1])]
        source = source_names[bisect.bisect(source_cum, rng.random() * source_cum[-1])]
        low, high = hours.get(source, (8.0, 20.0))
        if day == today:
            high = min(high, until)
            if high <= low:
                continue  # too early today for this source: draw again
        at = datetime.datetime.combine(day, datetime.time(), tzinfo=SHANGHAI) + datetime.timedelta(
            seconds=int(rng.uniform(low, high) * 3600)
        )
        times.append((at, source))
    times.sort(key=lambda item: item[0])
    return times


def _hours(start: datetime.datetime, hours: float) -> datetime.datetime:
    return workdays.add_working_hours(start, round(hours, 3))


def _working_hours_between(start, end) -> float:
    return workdays.working_time_between(start, end).total_seconds() / 3600


def _reporter(rng: random.Random, source: str) -> dict[str, str]:
    if source not in (Source.HOTLINE, Source.RESIDENT):
        return {}
    name = rng.choice(SURNAMES) + rng.choice(("先生", "女士", "阿姨", "老伯"))
    phone = f"1380013{rng.randint(0, 9999):04d}"
    return {
        "reporter_name_cipher": crypto.encrypt(name),
        "reporter_name_masked": name[0] + "*" * (len(name) - 1),
        "reporter_phone_cipher": crypto.encrypt(phone),
        "reporter_phone_index": crypto.blind_index(phone, "phone"),
        "reporter_phone_masked": mask_phone(phone),
    }


def _alternative(world: _World, rng: random.Random, assignee: Unit, street: Unit, area: Unit) -> Unit:
    """Where a returned case goes next: the street, or another department."""
    others = [unit for unit in world.handling_departments if unit.pk != assignee.pk]
    if assignee.kind == UnitKind.DEPARTMENT and (rng.random() < 0.5 or not others):
        return street
    if assignee.kind != UnitKind.DEPARTMENT and area.kind == UnitKind.NEIGHBORHOOD and rng.random() < 0.3:
        return area if assignee.pk != area.pk else street
    return rng.choice(others) if others else street


def _simulate(
    world: _World,
    rng: random.Random,
    now: datetime.datetime,
    at: datetime.datetime,
    source: str,
    code: str,
    *,
    category: Category | None = None,
    within: Unit | None = None,
    hold: str | None = None,
    stuck: bool | None = None,
) -> tuple[dict, _Timeline, tuple | None]:
    """One case from report to rating (or to where it stands at `now`). The keywords serve INBOX: the
    category, a unit the place is under, a stage the case stays at, and whether it is stuck unhandled."""
    category = category or world.category(source)
    place = world.place(category.kind, within)
    unit = place.unit
    street = world.street_of(unit)
    rule = world.rule(category, unit, place.housing_type)
    proposed = services.responsible_unit(rule, unit) or street
    assignee = world.units.get(proposed.pk, proposed)
    city = f"{street.name}城运中心"
    description = rng.choice(DESCRIPTIONS.get(category.code, ["{place}{category}问题，请尽快处理。"])).format(
        place=place.text or unit.name, category=category.name
    )
    grids = world.grids.get(unit.pk) or world.grids.get(street.pk) or [None]
    fields = {
        "code": code,
        "source": source,
        "category_id": category.pk,
        "description": description,
        "urgency": rng.choices((Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL), (90, 8, 2))[0],
        "unit_id": unit.pk,
        "estate_id": place.estate_id,
        "building_group_id": place.group_id,
        "grid_id": grids[0] if len(grids) == 1 else rng.choice(grids),
        "address": place.address,
        "dispatcher_id": street.pk,
        "rule_id": rule.pk if rule else None,
        "stage": Stage.REPORTED,
        "stage_started_at": at,
        "stage_deadline": _hours(at, rule.register_hours if rule else 2),
        "reported_at": at,
        "public_token": secrets.token_urlsafe(24),
        # A 12345 work order carries the hotline's own number: the date and a number of the day (unique,
        # since imports match on it: the last digits of the case's own sequence).
        "external_code": f"{at:%Y%m%d}{code[-5:]}" if source == Source.HOTLINE else "",
        **_reporter(rng, source),
    }
    line = _Timeline(now, fields, hold=hold)
    reporter = {Source.HOTLINE: "12345热线", Source.GRID_PATROL: "网格员"}.get(
        source, str(Source(source).label)
    )
    line.events.append((Action.REPORT, "", Stage.REPORTED, None, reporter, str(Source(source).label), at))

    t = _hours(at, rng.uniform(0.1, 1.2))
    if rng.random() < 0.02:
        line.step(
            t,
            Action.REJECT,
            Stage.REJECTED,
            actor=city,
            note="经核实不属于受理范围。",
            stage_deadline=None,
            closed_at=t,
        )
        return fields, line, None
    line.step(
        t,
        Action.REGISTER,
        Stage.REGISTERED,
        actor=city,
        stage_deadline=_hours(t, rule.dispatch_hours if rule else 2),
    )
    t = _hours(t, rng.uniform(0.05, 1.0))
    deadline = services._handle_deadline(rule, t)
    line.step(
        t,
        Action.DISPATCH,
        Stage.DISPATCHED,
        unit=assignee,
        actor=city,
        assignee_id=assignee.pk,
        handle_deadline=deadline,
        stage_deadline=deadline,
    )
    issue = None
    if rng.random() < 0.05:  # 退单, then 改派
        t = _hours(t, rng.uniform(0.3, 4))
        line.step(
            t,
            Action.RETURN,
            Stage.REGISTERED,
            unit=assignee,
            actor=assignee.name,
            note=rng.choice(RETURN_REASONS),
            assignee_id=None,
            return_count=1,
            handle_deadline=None,
            stage_deadline=_hours(t, rule.dispatch_hours if rule else 2),
        )
        if assignee.kind == UnitKind.DEPARTMENT:
            issue = (street.pk, assignee.pk, t, category.name)
        assignee = _alternative(world, rng, assignee, street, unit)
        t = _hours(t, rng.uniform(0.2, 2))
        deadline = services._handle_deadline(rule, t)
        line.step(
            t,
            Action.REDISPATCH,
            Stage.DISPATCHED,
            unit=assignee,
            actor=city,
            note="改派理由：原承办单位退单",
            assignee_id=assignee.pk,
            handle_deadline=deadline,
            stage_deadline=deadline,
        )
    limit = max(_working_hours_between(t, deadline), 0.5)
    t = _hours(t, min(limit * rng.uniform(0.02, 0.2), rng.uniform(0.1, 3)))
    line.step(t, Action.ACCEPT, Stage.HANDLING, unit=assignee, actor=assignee.name)

    if stuck is None:
        stuck = now - at < datetime.timedelta(days=45) and rng.random() < 0.04
    late = stuck or rng.random() < 0.08
    if late:
        # Handled after the limit (or not at all yet): the sweep marked it overdue, and supervised it
        # when it stayed overdue a day.
        t = None if stuck else _hours(deadline, rng.uniform(0.5, min(limit, 24) + 0.5))
        _overdue(line, deadline, rng, until=t)
        if stuck:
            return fields, line, issue
        if assignee.kind == UnitKind.DEPARTMENT and issue is None:
            issue = (street.pk, assignee.pk, t, category.name)
    else:
        t = _hours(t, max(limit * rng.uniform(0.1, 0.85), 0.05))
    t = _feedback_and_verify(line, rng, t, rule, assignee, city, late=late)
    if line.cut:
        return fields, line, issue
    _close_supervisions(line, t)
    if rng.random() < 0.88:
        _rate(line, rng, t, rule, assignee, street, city)
    return fields, line, issue


def _overdue(line: _Timeline, deadline, rng, until) -> None:
    """The sweep marks the stage overdue just after its deadline, and supervises it a day later, if the
    case is still not handled then (`until`: when it was; None: not yet)."""
    swept = deadline + datetime.timedelta(minutes=rng.randint(1, 14))
    if until is not None and swept >= until:
        return
    line.step(swept, Action.OVERDUE, actor="系统", overdue=True, warned=True)
    opened = deadline + datetime.timedelta(hours=24, minutes=rng.randint(1, 14))
    if until is not None and opened >= until:
        return
    if line.step(opened, Action.SUPERVISE, actor="系统", note="超过时限仍未办结，系统自动督办"):
        line.supervisions.append([opened, workdays.add_working_days(opened, 2), None])


def _close_supervisions(line: _Timeline, closed_at) -> None:
    for supervision in line.supervisions:
        if supervision[2] is None:
            supervision[2] = closed_at


def _feedback_and_verify(line, rng, t, rule, assignee, city, *, late: bool):
    result = rng.choice(RESULTS)
    line.step(
        t,
        Action.FEEDBACK,
        Stage.HANDLED,
        unit=assignee,
        actor=assignee.name,
        note=result,
        result=result,
        handled_late=late,
        stage_deadline=_hours(t, rule.verify_hours if rule else 8),
    )
    t = _hours(t, rng.uniform(0.3, 6))
    if rng.random() < 0.03:  # 核查不通过: back to the handler with a new limit
        deadline = services._handle_deadline(rule, t)
        line.step(
            t,
            Action.VERIFY_FAIL,
            Stage.HANDLING,
            unit=assignee,
            actor=city,
            note="现场复查仍未整改到位。",
            handle_deadline=deadline,
            stage_deadline=deadline,
        )
        t = _hours(t, max(_working_hours_between(t, deadline) * rng.uniform(0.1, 0.8), 0.05))
        line.step(
            t,
            Action.FEEDBACK,
            Stage.HANDLED,
            unit=assignee,
            actor=assignee.name,
            note=result,
            stage_deadline=_hours(t, rule.verify_hours if rule else 8),
        )
        t = _hours(t, rng.uniform(0.3, 6))
    line.step(t, Action.VERIFY_PASS, Stage.CLOSED, actor=city, closed_at=t, stage_deadline=None)
    return t


RATINGS = (Rating.SATISFIED, Rating.BASICALLY, Rating.UNSATISFIED)


def _rate(line, rng, t, rule, assignee, street, city) -> None:
    # 不满意 is 10% at first; a third of those reopen and mostly end 满意, so that the final ratings come
    # out near 80% 满意, 13% 基本满意, 7% 不满意.
    rating = rng.choices(RATINGS, (78, 12, 10))[0]
    for attempt in range(2):
        rated_at = t + datetime.timedelta(hours=rng.uniform(2, 72))
        channel = RatingChannel.PLATFORM if rng.random() < 0.4 else RatingChannel.PHONE
        actor = "反映人" if channel == RatingChannel.PLATFORM else f"{street.name}（电话回访）"
        comment = (
            "处理及时，谢谢。"
            if rating == Rating.SATISFIED
            else ("基本解决。" if rating == Rating.BASICALLY else "问题没有解决。")
        )
        if not line.step(
            rated_at,
            Action.RATE,
            actor=actor,
            note=f"{Rating(rating).label} {comment}",
            rating=rating,
            rating_channel=channel,
            rating_comment=comment,
        ):
            return
        if rating != Rating.UNSATISFIED or attempt or rng.random() >= 0.35:
            return
        # 不满意 reopens the case once, with a new handling limit.
        deadline = services._handle_deadline(rule, rated_at)
        line.step(
            rated_at,
            Action.REOPEN,
            Stage.HANDLING,
            unit=assignee,
            actor=actor,
            note=comment,
            rating="",
            rating_channel="",
            rating_comment="",
            closed_at=None,
            reopen_count=1,
            handled_late=False,
            handle_deadline=deadline,
            stage_deadline=deadline,
        )
        t = _hours(rated_at, max(_working_hours_between(rated_at, deadline) * rng.uniform(0.1, 0.8), 0.05))
        t = _feedback_and_verify(line, rng, t, rule, assignee, city, late=False)
        if line.cut:
            return
        rating = rng.choices(RATINGS, (60, 30, 10))[0]


def _finish(fields: dict, line: _Timeline, now: datetime.datetime) -> None:
    """Flags of a case still open at `now`: overdue past its stage's limit, warned past 80% of it."""
    fields["version"] = 1 + line.transitions
    deadline, started = fields.get("stage_deadline"), fields["stage_started_at"]
    if fields["stage"] in (Stage.CLOSED, Stage.REJECTED) or deadline is None:
        fields.update(warned=False, overdue=False)
        return
    overdue = deadline <= now
    fields["overdue"] = overdue
    fields["warned"] = overdue or now >= started + (deadline - started) * 0.8


def _next_numbers(prefixes: set[str]) -> dict[str, int]:
    existing = dict(CaseSequence.objects.filter(prefix__in=prefixes).values_list("prefix", "last"))
    return {prefix: existing.get(prefix, 0) for prefix in prefixes}


def _save_sequences(last: dict[str, int]) -> None:
    for prefix, number in last.items():
        CaseSequence.objects.update_or_create(prefix=prefix, defaults={"last": number})


def demo_now(today: datetime.date | None = None) -> datetime.datetime:
    """The moment the demo's year ends: now, or 18:00 on `today` (Shanghai time) when a day is given."""
    if today is None:
        return timezone.now().astimezone(SHANGHAI).replace(microsecond=0)
    return datetime.datetime.combine(today, datetime.time(18, 0), tzinfo=SHANGHAI)


def _inbox(world: _World, rng: random.Random, now: datetime.datetime) -> list[tuple]:
    """The INBOX cases, played like any other (with their stage held), as (reported at, source, fields,
    line, issue, summons). A draw that does not end where the item asks (a case returned, rejected or
    handled late, a time too early for the stage) is drawn again, further back if need be."""
    by_code = {unit.code: unit for unit in world.units.values()}
    by_name = {unit.name: unit for unit in world.departments}
    sources, source_cum = list(SOURCES), list(itertools.accumulate(SOURCES.values()))
    held = []
    for item in INBOX:
        within = by_code.get(item.within)
        assignee = by_name.get(item.assignee) if item.assignee else None
        categories = [world.categories[code] for code in item.categories if code in world.categories]
        if within is None or (item.assignee and assignee is None) or (item.categories and not categories):
            continue  # a district without this unit or category (tests' small worlds)
        for _n in range(item.count):
            for attempt in range(40):
                back = rng.uniform(*item.hours) * (1 + attempt / 8)
                at = now - datetime.timedelta(hours=back)
                while not 8 <= at.astimezone(SHANGHAI).hour < 21:  # reported while people call and patrol
                    at -= datetime.timedelta(hours=1)
                source = sources[bisect.bisect(source_cum, rng.random() * source_cum[-1])]
                fields, line, issue = _simulate(
                    world,
                    rng,
                    now,
                    at,
                    source,
                    "",
                    category=rng.choice(categories) if categories else None,
                    within=within,
                    hold=item.stages[-1],
                    stuck=item.overdue,
                )
                _finish(fields, line, now)
                if (
                    fields["stage"] in item.stages
                    and fields["overdue"] == item.overdue
                    and (assignee is None or fields.get("assignee_id") == assignee.pk)
                    and all(action != Action.RETURN for action, *_rest in line.events)
                ):
                    held.append((at, source, fields, line, issue, item.summons))
                    break
    return held


def _notifications(
    line: _Timeline, code: str, street_id: int, category: str, since: datetime.datetime
) -> list[tuple]:
    """The messages the services would have sent a unit along this case's timeline since `since`, as
    (unit id, message, when)."""
    assignee_id, notes = None, []
    for action, stage_from, _stage_to, unit, _actor, _note, at in line.events:
        message, to = None, None
        if action in (Action.DISPATCH, Action.REDISPATCH):
            assignee_id = unit.pk
            message, to = f"新派遣案件 {code}：{category}", assignee_id
        elif action == Action.RETURN:
            message, to = f"案件 {code} 被 {unit.name} 退单，请改派。", street_id
            assignee_id = None
        elif action == Action.FEEDBACK:
            message, to = f"案件 {code} 已处置，请核查。", street_id
        elif action == Action.VERIFY_FAIL:
            message, to = f"案件 {code} 核查未通过，请重新处置。", assignee_id
        elif action == Action.REOPEN:
            message, to = f"案件 {code} 反映人不满意，已重新派回处置。", assignee_id
        elif action in (Action.OVERDUE, Action.SUPERVISE):
            holder = assignee_id if stage_from in (Stage.DISPATCHED, Stage.HANDLING) and assignee_id else None
            word = "已超时" if action == Action.OVERDUE else "已被督办"
            message, to = f"案件 {code} {word}。", holder or street_id
        if message and to and at >= since:
            notes.append((to, message, at))
    return notes


def _notification(rng: random.Random, now, unit_id, message, at, *, fresh=False, **links) -> Notification:
    """Read within a few hours to three days, unless that is still to come; `fresh` (the INBOX's work,
    just arrived): not read yet."""
    read = at + datetime.timedelta(hours=rng.uniform(0.2, 72))
    return Notification(
        unit_id=unit_id,
        message=message[:300],
        created_at=at,
        read_at=read if read <= now and not fresh else None,
        **links,
    )


@transaction.atomic
def load_demo_cases(
    count: int,
    *,
    seed: int = SEED,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    progress: Progress | None = None,
) -> DemoCasesReport:
    """`count` synthetic cases over the 12 months up to now (or to 18:00 on `today`; see the module's
    docstring). Needs the units, places, categories and responsibility list loaded first; loads nothing if
    any case exists."""
    report = DemoCasesReport()
    if count <= 0 or Case.objects.exists():
        return report
    progress = progress or Progress.silent()
    rng = random.Random(seed)
    world = _World(rng)
    if not world.areas or not world.category_codes:
        return report
    now = (now or demo_now(today)).astimezone(SHANGHAI)  # days and hours are Shanghai's
    today = now.date()
    since = now - datetime.timedelta(days=NOTIFY_DAYS)
    held = _inbox(world, rng, now)[:count]
    times = [(at, source, None) for at, source in _report_times(rng, count - len(held), now)]
    times += [(at, source, rest) for at, source, *rest in held]
    times.sort(key=lambda item: item[0])
    last = _next_numbers({f"JA{at.year}-" for at, _source, _held in times})

    issues: list[tuple] = []
    summoned: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    with progress.stage("案件", total=len(times), unit="件") as stage:
        for start in range(0, len(times), CHUNK):
            cases, lines = [], []
            for at, source, pre in times[start : start + CHUNK]:
                prefix = f"JA{at.year}-"
                last[prefix] += 1
                code = f"{prefix}{last[prefix]:07d}"
                if pre is None:
                    fields, line, issue = _simulate(world, rng, now, at, source, code)
                    _finish(fields, line, now)
                    summons = False
                else:
                    fields, line, issue, summons = pre
                    fields["code"] = code
                    if fields["external_code"]:
                        fields["external_code"] = f"{at:%Y%m%d}{code[-5:]}"
                cases.append(Case(**fields))
                lines.append((line, issue, summons, pre is not None))
            Case.objects.bulk_create(cases, batch_size=1000)
            events, supervisions, notes = [], [], []
            for case, (line, issue, summons, fresh) in zip(cases, lines, strict=True):
                for action, stage_from, stage_to, unit, actor, note, at in line.events:
                    events.append(
                        CaseEvent(
                            case_id=case.pk,
                            action=action,
                            stage_from=stage_from,
                            stage_to=stage_to,
                            unit_id=unit.pk if unit else None,
                            actor_name=actor,
                            note=note,
                            created_at=at,
                        )
                    )
                for opened, deadline, closed in line.supervisions:
                    supervisions.append(
                        Supervision(
                            case_id=case.pk,
                            reason="超过时限仍未办结，系统自动督办",
                            opened_at=opened,
                            deadline=deadline,
                            status="done" if closed else "open",
                            closed_at=closed,
                        )
                    )
                stages = [(at, stage_to) for _a, _f, stage_to, _u, _n, _t, at in line.events]
                if issue:
                    issues.append((case.pk, stages, *issue))
                if summons:
                    street = world.street_of(world.units[case.unit_id])
                    summoned[(street.pk, case.assignee_id)].append(
                        (case.pk, stages, case.reported_at, world.categories_by_pk[case.category_id].name)
                    )
                if line.events[-1][-1] >= since:
                    category = str(world.categories_by_pk[case.category_id])
                    for unit_id, message, at in _notifications(
                        line, case.code, case.dispatcher_id, category, since
                    ):
                        notes.append(
                            _notification(rng, now, unit_id, message, at, fresh=fresh, case_id=case.pk)
                        )
            CaseEvent.objects.bulk_create(events, batch_size=5000)
            Supervision.objects.bulk_create(supervisions, batch_size=5000)
            Notification.objects.bulk_create(notes, batch_size=5000)
            report.cases += len(cases)
            report.events += len(events)
            report.supervisions += len(supervisions)
            report.notifications += len(notes)
            stage.update(len(cases))
    _save_sequences(last)
    report.summonses, summon_events, summon_notes = _load_summonses(
        world, rng, issues, count, now, pending=summoned
    )
    report.events += summon_events
    report.notifications += summon_notes
    record_bulk_load(
        Case, report.cases, f"合成案件（{today:%Y-%m-%d} 前12个月），含流转记录 {report.events} 条"
    )
    record_bulk_load(Supervision, report.supervisions, "合成督办")
    record_bulk_load(Summons, report.summonses, "合成约请")
    record_bulk_load(Notification, report.notifications, f"合成通知（近{NOTIFY_DAYS}天）")
    return report


def _summoners(world: _World) -> dict[int, User]:
    """Who sends a street's summons: a staff member of that street, else the district office."""
    users: dict[int, User] = {}
    fallback = None
    for membership in (
        Membership.objects.filter(
            role__in=(Role.STREET_STAFF, Role.STREET_ADMIN, Role.DISTRICT_OFFICE), user__is_active=True
        )
        .select_related("user")
        .order_by("pk")
    ):
        if membership.role == Role.DISTRICT_OFFICE:
            fallback = fallback or membership.user
        else:
            users.setdefault(membership.unit_id, membership.user)
    fallback = fallback or User.objects.order_by("pk").first()
    return defaultdict(lambda: fallback, users)


def _load_summonses(
    world: _World,
    rng: random.Random,
    issues: list[tuple],
    count: int,
    now: datetime.datetime,
    pending: dict[tuple[int, int], list[tuple]] | None = None,
) -> tuple[int, int, int]:
    """约请: a street calls a department that returned or was late on its cases, about one to three of
    them; most answer in time, and the street closes and rates the answer. `pending`: (street, department)
    → cases of INBOX the street has just summoned the department about, the answer not yet due.
    Returns the summonses, case events and notifications written."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for case_id, stages, street_id, department_id, at, category in issues:
        groups[(street_id, department_id, at.year, at.month)].append((case_id, stages, at, category))
    keys = sorted(groups)
    chosen = sorted(rng.sample(keys, min(len(keys), max(1, count // 250)))) if keys else []
    plan = [(key, groups[key][:3], False) for key in chosen]
    plan += [
        ((street_id, department_id, now.year), subjects[:3], True)
        for (street_id, department_id), subjects in sorted((pending or {}).items())
    ]
    if not plan:
        return 0, 0, 0
    summoners = _summoners(world)
    since = now - datetime.timedelta(days=NOTIFY_DAYS)
    rows, links, events, notes = [], [], [], []
    prefixes = {f"YQ{key[2]}-" for key, _subjects, _pending in plan} | {f"YQ{now.year - 1}-"}
    last = _next_numbers(prefixes)
    for key, subjects, awaiting in plan:
        street_id, department_id = key[0], key[1]
        newest = max(at for _pk, _stage, at, _c in subjects)
        if awaiting:  # sent within office hours of the newest of its cases, or since it if that is to come
            created = _hours(newest, rng.uniform(0.2, 1))
            if created > now:
                created = newest + (now - newest) * rng.uniform(0.3, 0.8)
        else:
            created = _hours(newest, rng.uniform(1, 8))
        creator = summoners[street_id]
        if created > now or creator is None:
            continue
        days = 5 if any(c in ("违法搭建", "加装电梯", "群租") for *_r, c in subjects) else 3
        deadline = workdays.add_working_days(created, days)
        fields = {
            "street_id": street_id,
            "department_id": department_id,
            "created_by": creator,
            "created_at": created,
            "response_days": days,
            "response_deadline": deadline,
            "reason": (
                f"近期{subjects[0][3]}等案件集中，请部门说明处置安排并协同处置"
                if awaiting
                else f"{subjects[0][3]}案件{'退单' if len(subjects) == 1 else '多次退单或超时'}，请部门说明并协同处置"
            ),
            "request": "请于答复时限内书面说明情况，并派员到街道会商。",
            "status": SummonsStatus.SENT,
        }
        if rng.random() < 0.3:
            fields["meeting_at"] = workdays.add_working_days(created, 2) - datetime.timedelta(hours=3)
        answered = _hours(created, rng.uniform(2, days * 7 * 1.25))
        if not awaiting and rng.random() < 0.94 and answered <= now:
            on_time = answered <= deadline
            fields.update(
                status=rng.choices((SummonsStatus.ACCEPTED, SummonsStatus.EXPLAINED), (70, 30))[0],
                answer="已安排专人对接，明确责任分工，将按职责处置到位。",
                answered_at=answered,
                answered_on_time=on_time,
            )
            closed = _hours(answered, rng.uniform(4, 40))
            if closed <= now:
                fields.update(
                    status=SummonsStatus.CLOSED,
                    closed_at=closed,
                    outcome="部门已处置到位，街道确认办结。",
                    rating_timeliness=rng.choices(
                        (5, 4, 3, 2), (60, 30, 8, 2) if on_time else (5, 25, 45, 25)
                    )[0],
                    rating_result=rng.choices((5, 4, 3, 2), (45, 35, 15, 5))[0],
                )
        prefix = f"YQ{created.year}-"
        last[prefix] = last.get(prefix, 0) + 1
        fields["code"] = f"{prefix}{last[prefix]:07d}"
        rows.append((Summons(**fields), subjects))
    Summons.objects.bulk_create([summons for summons, _subjects in rows], batch_size=1000)
    through = Summons.cases.through
    for summons, subjects in rows:
        street = world.units[summons.street_id]
        department = world.units[summons.department_id]
        if summons.created_at >= since:
            notes.append(
                _notification(
                    rng,
                    now,
                    department.pk,
                    f"{street.name}约请：{summons.reason}（{summons.code}）",
                    summons.created_at,
                    fresh=summons.status == SummonsStatus.SENT,
                    summons_id=summons.pk,
                )
            )
        if summons.answered_at and summons.answered_at >= since:
            notes.append(
                _notification(
                    rng,
                    now,
                    street.pk,
                    f"{department.name}已答复约请 {summons.code}。",
                    summons.answered_at,
                    summons_id=summons.pk,
                )
            )
        for case_id, stages, _at, _category in subjects:
            # The case's stage when the summons was sent (it may have moved on since).
            stage = [stage for at, stage in stages if at <= summons.created_at][-1]
            links.append(through(summons_id=summons.pk, case_id=case_id))
            events.append(
                CaseEvent(
                    case_id=case_id,
                    action=Action.SUMMON,
                    stage_from=stage,
                    stage_to=stage,
                    unit_id=summons.department_id,
                    actor_name=street.name,
                    note=summons.reason,
                    created_at=summons.created_at,
                )
            )
    through.objects.bulk_create(links, batch_size=5000)
    CaseEvent.objects.bulk_create(events, batch_size=5000)
    Notification.objects.bulk_create(notes, batch_size=5000)
    _save_sequences({prefix: number for prefix, number in last.items() if number})
    return len(rows), len(events), len(notes)
