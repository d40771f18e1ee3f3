"""Set-based reads of cases for the dashboard (数据看板) and the department assessment (部门考评).

Every figure starts from `Case.objects.restrict(user, "view")` (or the summonses the user may see) and
is one GROUP BY query whatever the number of cases: the number of queries a page makes is fixed. Rates
are kept as (numerator, denominator) per leaf row and rolled up by summing both, never by averaging
ratios (DESIGN.md, "Indicators")."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequ.core.workdays import SHANGHAI
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import CODE_LENGTH, Unit
from shequ.registry.models import BuildingGroup, Estate

from .choices import OPEN_STAGES, Action, CategoryKind, Rating, Stage, SupervisionStatus
from .models import Case, CaseEvent, Category, Summons, Supervision

TOP = 10
SATISFIED = (Rating.SATISFIED, Rating.BASICALLY)


# The dashboard's figures as conditions on cases. The same condition counts a figure and filters the list
# the figure links to (filters.CaseFilter, `status`), so the two cannot disagree.
def _open_supervision():
    return Exists(Supervision.objects.filter(case=OuterRef("pk"), status=SupervisionStatus.OPEN))


FIGURES: dict[str, tuple[str, Q]] = {
    "open": (gettext_lazy("办理中"), Q(stage__in=OPEN_STAGES)),
    "overdue": (gettext_lazy("办理中且已超时"), Q(stage__in=OPEN_STAGES, overdue=True)),
    "supervised": (gettext_lazy("督办中"), Q(_open_supervision(), stage__in=OPEN_STAGES)),
    "closed": (gettext_lazy("已结案"), Q(stage=Stage.CLOSED)),
    "closed_on_time": (gettext_lazy("按时结案"), Q(stage=Stage.CLOSED, handled_late=False)),
    "rated": (gettext_lazy("已评价"), ~Q(rating="")),
    "satisfied": (gettext_lazy("满意或基本满意"), Q(rating__in=SATISFIED)),
    "returned": (gettext_lazy("有退单"), Q(return_count__gt=0)),
}


def figure_q(name: str) -> Q:
    return FIGURES[name][1]


# Rates --------------------------------------------------------------------------------------------------


@dataclass
class Rate:
    """A rate as its two counts, so that a parent's rate is the sum of its children's counts."""

    numerator: int = 0
    denominator: int = 0

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.numerator + other.numerator, self.denominator + other.denominator)

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"

    def __str__(self) -> str:
        return self.percent


# Periods ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in Asia/Shanghai: a year, a quarter, a month, or the 12 months up to an anchor."""

    key: str  # "2025", "2025-Q3", "2025-07"; "" for the rolling 12 months
    label: str
    start: datetime.datetime
    end: datetime.datetime

    def months(self) -> list[datetime.date]:
        months, day = [], self.start.date().replace(day=1)
        while day < self.end.date():
            months.append(day)
            day = _add_months(day, 1)
        return months


def _add_months(day: datetime.date, count: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=SHANGHAI)


def _months_period(key: str, label: str, first: datetime.date, count: int) -> Period:
    return Period(key, label, _midnight(first), _midnight(_add_months(first, count)))


PERIOD_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


def parse_period(text: str) -> Period:
    """'2025' (a year), '2025-Q3' (a quarter) or '2025-07' (a month). ValueError otherwise."""
    found = PERIOD_PATTERN.match((text or "").strip().upper())
    if not found or not 2000 <= int(found["year"]) <= 2100:
        raise ValueError(text)
    year = int(found["year"])
    if found["quarter"]:
        quarter = int(found["quarter"])
        return _months_period(
            f"{year}-Q{quarter}",
            _("%(y)d年第%(q)d季度") % {"y": year, "q": quarter},
            datetime.date(year, quarter * 3 - 2, 1),
            3,
        )
    if found["month"]:
        month = int(found["month"])
        return _months_period(
            f"{year}-{month:02d}",
            _("%(y)d年%(m)d月") % {"y": year, "m": month},
            datetime.date(year, month, 1),
            1,
        )
    return _months_period(str(year), _("%(y)d年") % {"y": year}, datetime.date(year, 1, 1), 12)


def rolling_year(anchor: datetime.date) -> Period:
    """The 12 calendar months ending with the anchor's month."""
    first = _add_months(anchor.replace(day=1), -11)
    label = _("近12个月（%(a)s—%(b)s）") % {
        "a": f"{first.year}年{first.month}月",
        "b": f"{anchor.year}年{anchor.month}月",
    }
    return _months_period("", label, first, 12)


@dataclass(frozen=True)
class Span:
    """When the cases a user may see were reported: the default period and the choices follow it."""

    first: datetime.date
    last: datetime.date

    @property
    def years(self) -> list[int]:
        return list(range(self.last.year, self.first.year - 1, -1))


def reported_span(cases: QuerySet) -> Span:
    """The first and the last report. Two walks along the reported_at index that stop at the first case
    in scope (a MIN/MAX aggregate over a scoped join reads every case instead)."""
    today = timezone.localdate()
    first = cases.order_by("reported_at").values_list("reported_at", flat=True).first()
    last = cases.order_by("-reported_at").values_list("reported_at", flat=True).first()
    return Span(
        timezone.localtime(first).date() if first else today,
        timezone.localtime(last).date() if last else today,
    )


def period_choices(span: Span) -> list[tuple[str, str]]:
    """The rolling year, each year, each quarter and each month of the latest year with cases."""
    choices = [("", rolling_year(span.last).label)]
    for year in span.years:
        choices.append((str(year), _("%(y)d年") % {"y": year}))
    for year in span.years[:2]:
        choices += [(f"{year}-Q{q}", parse_period(f"{year}-Q{q}").label) for q in range(4, 0, -1)]
    latest = span.last.replace(day=1)
    for back in range(12):
        month = _add_months(latest, -back)
        choices.append((f"{month:%Y-%m}", _("%(y)d年%(m)d月") % {"y": month.year, "m": month.month}))
    return choices


# Which unit a dashboard is about --------------------------------------------------------------------------


def _case_prefixes(user) -> list[str]:
    """The unit paths under which the user sees cases: by place, or as the unit they are sent to."""
    paths = set(user.scope_prefixes("cases.case", "view")) | set(
        user.scope_prefixes("cases.case.assigned", "view")
    )
    return sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))


def dashboard_units(user) -> list[Unit]:
    """The units a user may pick: the top of each of their scopes and the level below it (a district
    role: the district, its streets and its departments; a street: itself and its residential areas)."""
    prefixes = _case_prefixes(user)
    if not prefixes:
        return []
    units = Unit.objects.filter(Q(path__in=prefixes) | Q(parent__path__in=prefixes), is_active=True)
    return sorted(units, key=lambda unit: (unit.kind == UnitKind.DEPARTMENT, unit.path))


def pick_unit(user, code: str | None, choices: list[Unit]) -> Unit:
    """The unit named by `?unit=` (404 when it lies outside the user's scope), or the user's own top unit."""
    if not code:
        if not choices:
            raise Http404
        return min(
            choices, key=lambda unit: (unit.path.count("/"), unit.kind == UnitKind.DEPARTMENT, unit.path)
        )
    unit = next((unit for unit in choices if unit.code == code), None)
    if unit is None:
        unit = Unit.objects.filter(code=code, is_active=True).first()
    if unit is None or not any(unit.path.startswith(prefix) for prefix in _case_prefixes(user)):
        raise Http404
    return unit


def unit_cases_q(unit: Unit) -> Q:
    """A place's cases are those located under it; a department's, those sent to it."""
    if unit.kind == UnitKind.DEPARTMENT:
        return Q(assignee__path__startswith=unit.path)
    return Q(unit__path__startswith=unit.path)


def _root(path: str) -> str:
    return "/" + path.strip("/").split("/")[0] + "/"


def child_prefix_length(unit: Unit) -> int:
    """How much of a case's place path names the row it is counted in: the unit's streets for the
    district (and for a department, whose cases lie all over the district), its residential areas for a
    street, the unit itself below that."""
    if unit.kind == UnitKind.DISTRICT:
        return len(unit.path) + CODE_LENGTH[UnitKind.STREET] + 1
    if unit.kind == UnitKind.DEPARTMENT:
        return len(_root(unit.path)) + CODE_LENGTH[UnitKind.STREET] + 1
    if unit.kind in STREET_KINDS:
        return len(unit.path) + CODE_LENGTH[UnitKind.NEIGHBORHOOD] + 1
    return len(unit.path)


# The dashboard -----------------------------------------------------------------------------------------------


@dataclass
class UnitRow:
    """One row of the per-unit table: the leaves that the headline figures are the sum of."""

    path: str
    name: str = ""
    code: str = ""
    cases: int = 0
    on_time: Rate = field(default_factory=Rate)
    satisfaction: Rate = field(default_factory=Rate)
    returns: int = 0
    returned_cases: int = 0  # the cases behind `returns` (a case may be returned more than once)
    own: bool = False  # the unit's own row (cases placed at the unit itself, not below it)

    def __add__(self, other: UnitRow) -> UnitRow:
        return UnitRow(
            self.path,
            self.name,
            self.code,
            self.cases + other.cases,
            self.on_time + other.on_time,
            self.satisfaction + other.satisfaction,
            self.returns + other.returns,
            self.returned_cases + other.returned_cases,
        )


@dataclass
class DepartmentRow:
    unit_id: int
    name: str
    code: str
    cases: int
    on_time: Rate


@dataclass
class PlaceRow:
    label: str
    area: str
    cases: int
    url: str = ""


@dataclass
class Dashboard:
    unit: Unit
    period: Period
    total: UnitRow
    rows: list[UnitRow]
    open: int
    overdue: int
    supervised: int
    months: list[datetime.date]
    volume: list[tuple[str, list[int]]]  # (big class, cases per month)
    returns_by_unit: list[tuple[str, int]]
    estates: list[PlaceRow]
    groups: list[PlaceRow]
    departments: list[DepartmentRow]

    def chart(self) -> dict:
        """What dashboard.js draws (passed with json_script)."""
        return {
            "months": [f"{month:%Y-%m}" for month in self.months],
            "series": [{"name": name, "data": counts} for name, counts in self.volume],
            "departments": [
                {"name": row.name, "cases": row.cases, "on_time": row.on_time.value}
                for row in self.departments
            ],
            "labels": {"unit": _("件"), "cases": _("派给案件"), "on_time": _("按时结案率")},
        }


def case_scope(user, unit: Unit) -> QuerySet:
    return Case.objects.restrict(user, "view").filter(unit_cases_q(unit))


def in_period(cases: QuerySet, period: Period, field_name: str = "reported_at") -> QuerySet:
    return cases.filter(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})


def _counts():
    """The conditional counts every rate needs, as aggregate expressions."""
    return {
        "cases": Count("id"),
        "closed": Count("id", filter=figure_q("closed")),
        "closed_on_time": Count("id", filter=figure_q("closed_on_time")),
        "rated": Count("id", filter=figure_q("rated")),
        "satisfied": Count("id", filter=figure_q("satisfied")),
        "returns": Sum("return_count"),
        "returned_cases": Count("id", filter=figure_q("returned")),
    }


def unit_and_department_rows(user, unit: Unit, cases: QuerySet) -> tuple[list[UnitRow], list[DepartmentRow]]:
    """The per-unit rows and the departments' ranking from one scan: the cases grouped by their place and
    the unit they were sent to (a few thousand groups at district scale), summed each way in Python; then
    one query for the units' paths and names.

    Grouping by plain columns matters: grouped by an expression (the leading part of the place's path)
    PostgreSQL expects as many groups as cases and sorts them all, on disk at district scale."""
    grouped = list(cases.values("unit_id", "assignee_id").annotate(**_counts()).order_by())
    ids = {row["unit_id"] for row in grouped} | {row["assignee_id"] for row in grouped if row["assignee_id"]}
    # Labels of places and units the user's own cases name (a row's unit is the place's street or area:
    # the place itself or its parent). Read by id from a restricted result, so not restricted again.
    units = {
        pk: (path, name, code, kind)
        for pk, path, name, code, kind in Unit.objects.filter(Q(pk__in=ids) | Q(children__in=ids))
        .distinct()
        .values_list("pk", "path", "name", "code", "kind")
    }
    by_path = {path: (name, code) for path, name, code, _kind in units.values()}
    length = child_prefix_length(unit)
    places: dict[str, UnitRow] = {}
    departments: dict[int, DepartmentRow] = {}
    for row in grouped:
        on_time = Rate(row["closed_on_time"], row["closed"])
        prefix = units[row["unit_id"]][0][:length]
        place = places.setdefault(prefix, UnitRow(path=prefix))
        place.cases += row["cases"]
        place.on_time += on_time
        place.satisfaction += Rate(row["satisfied"], row["rated"])
        place.returns += row["returns"] or 0
        place.returned_cases += row["returned_cases"]
        assignee = units.get(row["assignee_id"])
        if assignee and assignee[3] == UnitKind.DEPARTMENT:
            department = departments.setdefault(
                row["assignee_id"], DepartmentRow(row["assignee_id"], assignee[1], assignee[2], 0, Rate())
            )
            department.cases += row["cases"]
            department.on_time += on_time
    rows = [places[path] for path in sorted(places)]
    for row in rows:
        row.name, row.code = by_path.get(row.path, (row.path, row.path.strip("/").split("/")[-1]))
        if row.path == unit.path:
            row.name = _("%(unit)s（本级）") % {"unit": unit.name}
            row.own = True
    # Best on-time rate first; ties (and departments with nothing closed yet, last) by more cases.
    ranking = sorted(
        departments.values(),
        key=lambda row: (-(row.on_time.value if row.on_time.value is not None else -1), -row.cases, row.code),
    )
    return rows, ranking


def current_status(cases: QuerySet) -> dict[str, int]:
    """Open, overdue and under supervision now (whatever the period)."""
    found = cases.filter(figure_q("open")).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=figure_q("overdue")),
        supervised=Count("id", filter=figure_q("supervised")),
    )
    return {key: value or 0 for key, value in found.items()}


def volume_by_class(cases: QuerySet, period: Period) -> list[tuple[str, list[int]]]:
    """Cases per big class (大类) and month, for the stacked bars: grouped by big class only, with one
    conditional count per month. (Grouping by a truncated date as well makes PostgreSQL expect as many
    groups as cases and sort them all, on disk at district scale.)"""
    months = period.months()
    bounds = [_midnight(month) for month in months] + [period.end]
    per_month = {
        f"m{index}": Count("id", filter=Q(reported_at__gte=bounds[index], reported_at__lt=bounds[index + 1]))
        for index in range(len(months))
    }
    grouped = (
        cases.values("category__parent__code", "category__parent__name", "category__parent__kind")
        .annotate(**per_month)
        .order_by("category__parent__code")
    )
    # Two big classes may share a name (市容环境 is a 部件 class and an 事件 class): say which, whether or
    # not both have cases, so that a class keeps its label from one period to the next.
    big_classes = list(Category.objects.filter(parent__isnull=True).values_list("name", flat=True))
    result = []
    for row in grouped:
        name = row["category__parent__name"]
        if big_classes.count(name) > 1:
            name = f"{name}（{CategoryKind(row['category__parent__kind']).label}）"
        result.append((name, [row[key] for key in per_month]))
    return result


def returns_by_unit(cases: QuerySet) -> list[tuple[str, int]]:
    """退单 per unit that sent the case back (a rule that points at the wrong unit shows here)."""
    grouped = (
        CaseEvent.objects.filter(action=Action.RETURN, case__in=cases.values("pk"))
        .values("unit_id", "unit__name")
        .annotate(n=Count("id"))
        .order_by("-n", "unit__name")
    )
    rows = [(row["unit__name"] or _("（未记录）"), row["n"]) for row in grouped]
    if len(rows) > TOP:  # the ten units that return most, and the rest together
        rest = rows[TOP - 1 :]
        rows = rows[: TOP - 1] + [(_("其他 %(n)d 个单位") % {"n": len(rest)}, sum(n for _name, n in rest))]
    return rows


def top_places(user, cases: QuerySet) -> tuple[list[PlaceRow], list[PlaceRow]]:
    """The estates and the building groups with the most cases (repeated complaints show a lasting
    problem): one scan grouped by (estate, building group), summed per estate in Python; then one query
    each for the ten names."""
    per_estate: dict[int, int] = {}
    per_group: dict[int, int] = {}
    grouped = (
        cases.filter(estate__isnull=False)
        .values_list("estate_id", "building_group_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for estate_id, group_id, n in grouped:
        per_estate[estate_id] = per_estate.get(estate_id, 0) + n
        if group_id is not None:
            per_group[group_id] = n
    estates = sorted(per_estate.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    groups = sorted(per_group.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    estate_objects = (
        Estate.objects.restrict(user, "view").select_related("unit").in_bulk([pk for pk, _n in estates])
    )
    group_objects = (
        BuildingGroup.objects.restrict(user, "view")
        .select_related("unit", "building__estate")
        .in_bulk([pk for pk, _n in groups])
    )
    estate_rows = []
    for pk, n in estates:
        estate = estate_objects.get(pk)
        estate_rows.append(
            PlaceRow(
                estate.name if estate else f"#{pk}",
                estate.unit.name if estate else "",
                n,
                estate.get_absolute_url() if estate else "",
            )
        )
    group_rows = []
    for pk, n in groups:
        group = group_objects.get(pk)
        label = f"{group.building.estate.name} {group.building.number} {group.name}" if group else f"#{pk}"
        group_rows.append(
            PlaceRow(label, group.unit.name if group else "", n, group.get_absolute_url() if group else "")
        )
    return estate_rows, group_rows


def dashboard(user, unit: Unit, period: Period) -> Dashboard:
    """Everything the dashboard shows: five scans of the cases (and one of the returns), whatever their
    number, plus a few small queries for names."""
    cases = case_scope(user, unit)
    reported = in_period(cases, period)
    rows, departments = unit_and_department_rows(user, unit, reported)
    total = sum(rows, UnitRow(unit.path, unit.name, unit.code))
    status = current_status(cases)
    estates, groups = top_places(user, reported)
    return Dashboard(
        unit=unit,
        period=period,
        total=total,
        rows=rows,
        months=period.months(),
        volume=volume_by_class(reported, period),
        returns_by_unit=returns_by_unit(reported),
        estates=estates,
        groups=groups,
        departments=departments,
        **status,
    )


# The department assessment (部门考评) ------------------------------------------------------------------------


@dataclass
class AssessmentRow:
    """One department's record in a period. Counts by the date of each event: received and returned by
    the dispatch and return dates, on-time handling and satisfaction by the closing date, summonses by
    the date they were sent."""

    unit_id: int
    name: str
    code: str
    received: int = 0
    on_time: Rate = field(default_factory=Rate)
    returns: int = 0
    redispatched: int = 0
    summonses: int = 0
    summons_on_time: Rate = field(default_factory=Rate)
    timeliness: Rate = field(default_factory=Rate)  # sum of scores / number of ratings
    result: Rate = field(default_factory=Rate)
    satisfaction: Rate = field(default_factory=Rate)

    def __add__(self, other: AssessmentRow) -> AssessmentRow:
        return AssessmentRow(
            self.unit_id,
            self.name,
            self.code,
            self.received + other.received,
            self.on_time + other.on_time,
            self.returns + other.returns,
            self.redispatched + other.redispatched,
            self.summonses + other.summonses,
            self.summons_on_time + other.summons_on_time,
            self.timeliness + other.timeliness,
            self.result + other.result,
            self.satisfaction + other.satisfaction,
        )

    @staticmethod
    def score(rate: Rate) -> str:
        return "—" if rate.value is None else f"{rate.value:.2f}"


@dataclass
class Assessment:
    period: Period
    rows: list[AssessmentRow]
    total: AssessmentRow
    partial: bool  # the figures cover the cases of the user's street only


def may_assess(user) -> bool:
    """District roles and streets assess departments; a department reads its own record."""
    return user.can("cases.summons", "view") or user.can("cases.summons.received", "view")


def assessment_scope(user) -> tuple[QuerySet, QuerySet | None]:
    """The departments shown, and the cases whose events count (None: the departments' own events).

    Those who see cases by place (district roles, streets) see every department, as it dealt with the
    cases they see: a street assesses the departments on its own street's cases. A department sees its
    own row only, with all of its own events (a case it returned is no longer its own, but the return is)."""
    departments = Unit.objects.filter(kind=UnitKind.DEPARTMENT, is_active=True).order_by("code")
    if user.can("cases.case", "view"):
        return departments, Case.objects.restrict(user, "view")
    own = user.scope_prefixes("cases.summons.received", "view")
    if not own:
        return departments.none(), None
    query = Q(pk__in=[])
    for prefix in own:
        query |= Q(path__startswith=prefix)
    return departments.filter(query), None


def summons_due_q(now: datetime.datetime) -> Q:
    """The summonses whose answer can be judged at `now`: those answered, and those still unanswered
    after their deadline (late), unless the street closed them before the deadline. A summons still
    open with its deadline ahead is neither on time nor late yet."""
    unanswered_late = Q(answered_at__isnull=True, response_deadline__lte=now) & (
        Q(closed_at__isnull=True) | Q(closed_at__gte=F("response_deadline"))
    )
    return Q(answered_at__isnull=False) | unanswered_late


def assessment(user, period: Period, now: datetime.datetime | None = None) -> Assessment:
    """One row per department, in four grouped queries whatever the number of cases."""
    now = now or timezone.now()
    departments, cases = assessment_scope(user)
    rows = {unit.pk: AssessmentRow(unit.pk, unit.name, unit.code) for unit in departments}
    ids = list(rows)

    events = CaseEvent.objects.filter(
        action__in=(Action.DISPATCH, Action.REDISPATCH, Action.RETURN),
        unit_id__in=ids,
        created_at__gte=period.start,
        created_at__lt=period.end,
    )
    if cases is not None:
        events = events.filter(case__in=cases.values("pk"))
    for row in events.values("unit_id", "action").annotate(n=Count("id")).order_by():
        target = rows[row["unit_id"]]
        if row["action"] == Action.RETURN:
            target.returns += row["n"]
        else:
            target.received += row["n"]
            if row["action"] == Action.REDISPATCH:
                target.redispatched += row["n"]

    closed = in_period(
        Case.objects.restrict(user, "view") if cases is None else cases, period, "closed_at"
    ).filter(stage=Stage.CLOSED, assignee_id__in=ids)
    for row in (
        closed.values("assignee_id")
        .annotate(
            closed=Count("id"),
            on_time=Count("id", filter=Q(handled_late=False)),
            rated=Count("id", filter=~Q(rating="")),
            satisfied=Count("id", filter=Q(rating__in=SATISFIED)),
        )
        .order_by()
    ):
        target = rows[row["assignee_id"]]
        target.on_time = Rate(row["on_time"], row["closed"])
        target.satisfaction = Rate(row["satisfied"], row["rated"])

    summonses = in_period(Summons.objects.restrict(user, "view"), period, "created_at").filter(
        department_id__in=ids
    )
    for row in (
        summonses.values("department_id")
        .annotate(
            n=Count("id"),
            due=Count("id", filter=summons_due_q(now)),
            answered_on_time=Count("id", filter=Q(answered_on_time=True, answered_at__isnull=False)),
            timeliness_sum=Sum("rating_timeliness"),
            timeliness_n=Count("rating_timeliness"),
            result_sum=Sum("rating_result"),
            result_n=Count("rating_result"),
        )
        .order_by()
    ):
        target = rows[row["department_id"]]
        target.summonses = row["n"]
        target.summons_on_time = Rate(row["answered_on_time"], row["due"])
        target.timeliness = Rate(row["timeliness_sum"] or 0, row["timeliness_n"])
        target.result = Rate(row["result_sum"] or 0, row["result_n"])

    ordered = list(rows.values())
    total = sum(ordered, AssessmentRow(0, _("合计"), ""))
    return Assessment(period, ordered, total, partial=cases is not None and not _sees_whole_district(user))


def _sees_whole_district(user) -> bool:
    return any(prefix.count("/") == 2 for prefix in user.scope_prefixes("cases.case", "view"))


def assessment_span(user) -> Span:
    _departments, cases = assessment_scope(user)
    return reported_span(cases if cases is not None else Case.objects.restrict(user, "view"))
