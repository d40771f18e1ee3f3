"""数据看板 and 部门考评: two read-only pages over cases.selectors (T6.1, T2.2, G10).

The dashboard shows one unit (the user's own by default; `?unit=<code>` picks another inside the user's
scope, 404 outside it) over a year (`?year=2025`; by default the 12 months up to the latest case). The
assessment shows one row per department over a period (`?period=2025`, `2025-Q3` or `2025-07`), and
`?format=xlsx` downloads the same table."""

from __future__ import annotations

import datetime
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from shequ.core.excel import XLSX_CONTENT_TYPE
from shequ.core.views import ScopedMixin
from shequ.org.choices import UnitKind
from shequ.org.models import Unit

from . import selectors
from .models import Case, Summons


def _period(request, param: str, span: selectors.Span, *, years_only: bool = False) -> selectors.Period:
    """The period named in the query string, or the 12 months up to the latest case. A malformed value
    falls back to the default with a message rather than an error page."""
    text = request.GET.get(param, "").strip()
    if text:
        try:
            if years_only and not text.isdigit():
                raise ValueError(text)
            return selectors.parse_period(text)
        except ValueError:
            messages.warning(request, _("无法识别的期间“%(p)s”，已显示近12个月。") % {"p": text[:20]})
    return selectors.rolling_year(span.last)


class CaseDashboard(ScopedMixin, TemplateView):
    """Volume by class and month, on-time closure, satisfaction, returns, repeated places, the
    departments' ranking and what is open now, for one unit."""

    model = Case
    template_name = "cases/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        choices = selectors.dashboard_units(user)
        unit = selectors.pick_unit(user, self.request.GET.get("unit"), choices)
        if unit not in choices:
            choices = sorted([*choices, unit], key=lambda u: u.path)
        span = selectors.reported_span(selectors.case_scope(user, unit))
        period = _period(self.request, "year", span, years_only=True)
        data = selectors.dashboard(user, unit, period)
        links = FigureLinks(unit, period)
        for row in data.rows:
            row.url = links.row(row)
        for row in data.departments:
            row.url = links.department(row)
        context.update(
            figure_urls=links.figures(),
            title=_("数据看板"),
            data=data,
            unit=unit,
            unit_choices=choices,
            period=period,
            year_choices=[("", selectors.rolling_year(span.last).label)]
            + [(str(year), _("%(y)d年") % {"y": year}) for year in span.years],
            chart=data.chart(),
        )
        return context


class FigureLinks:
    """Where each figure of the dashboard leads: the case list filtered to exactly the cases it counts —
    the unit's (by place, or for a department by the unit they were sent to), reported in the period for
    the period's figures, in the state the figure names (filters.CaseFilter `status`, whose conditions are
    selectors.FIGURES). The current figures (办理中, 超时, 督办中) are not limited to the period."""

    def __init__(self, unit: Unit, period: selectors.Period):
        self.unit = unit
        last_day = period.end - datetime.timedelta(days=1)
        self.period = {"since": f"{period.start:%Y-%m-%d}", "until": f"{last_day:%Y-%m-%d}"}
        self.scope = {"assignee" if unit.kind == UnitKind.DEPARTMENT else "place": unit.code}

    def url(self, *parts: dict, **filters: str) -> str:
        query = {}
        for part in (*parts, filters):
            query.update(part)
        return f"{reverse('case-list')}?{urlencode(query)}"

    def reported(self, status: str = "") -> str:
        """A figure of the cases reported in the period (status: one of selectors.FIGURES)."""
        return self.url(self.scope, self.period, **({"status": status} if status else {}))

    def now(self, status: str) -> str:
        return self.url(self.scope, status=status)

    def figures(self) -> dict[str, str]:
        """The tiles' links, by figure."""
        return {
            "cases": self.reported(),
            **{
                name: self.reported(name)
                for name in ("closed", "closed_on_time", "rated", "satisfied", "returned")
            },
            **{name: self.now(name) for name in ("open", "overdue", "supervised")},
        }

    def row(self, row: selectors.UnitRow) -> str:
        """A row of the per-unit table. The unit's own row of a street or the district counts the cases
        placed at the unit itself, not below it; the list filters by what lies under a unit, so that row
        has no link."""
        if row.own and self.unit.kind != UnitKind.NEIGHBORHOOD:
            return ""
        if self.unit.kind == UnitKind.DEPARTMENT:
            return self.url(self.scope, self.period, place=row.code)
        return self.url(self.period, place=row.code)

    def department(self, row: selectors.DepartmentRow) -> str:
        place = {} if self.unit.kind == UnitKind.DEPARTMENT else self.scope
        return self.url(place, self.period, assignee=row.code)


# (heading, value, kind): "rate" and "score" cells are numbers in Excel and formatted text on the page.
COLUMNS = [
    (gettext_lazy("部门"), lambda row: row.name, "text"),
    (gettext_lazy("派遣（件）"), lambda row: row.received, "int"),
    (gettext_lazy("按时办结率"), lambda row: row.on_time, "rate"),
    (gettext_lazy("办结（件）"), lambda row: row.on_time.denominator, "int"),
    (gettext_lazy("退单（次）"), lambda row: row.returns, "int"),
    (gettext_lazy("改派转入（次）"), lambda row: row.redispatched, "int"),
    (gettext_lazy("被约请（次）"), lambda row: row.summonses, "int"),
    (gettext_lazy("按时答复率"), lambda row: row.summons_on_time, "rate"),
    (gettext_lazy("及时性评分"), lambda row: row.timeliness, "score"),
    (gettext_lazy("结果评分"), lambda row: row.result, "score"),
    (gettext_lazy("满意率"), lambda row: row.satisfaction, "rate"),
    (gettext_lazy("评价（件）"), lambda row: row.satisfaction.denominator, "int"),
]


def _text(value, kind: str) -> str:
    if kind == "rate":
        return value.percent
    if kind == "score":
        return selectors.AssessmentRow.score(value)
    return str(value)


def _cell(sheet, value, kind: str):
    if kind not in ("rate", "score"):
        return value
    cell = WriteOnlyCell(sheet, value=None if value.value is None else round(value.value, 4))
    cell.number_format = "0.0%" if kind == "rate" else "0.00"
    return cell


class DepartmentAssessment(ScopedMixin, TemplateView):
    """部门考评: how each department handled what was sent to it and answered the streets' summonses.
    The grant checked is the summons': a street's (district roles, streets) or a department's own side."""

    model = Summons
    template_name = "cases/assessment.html"

    def get(self, request, *args, **kwargs):
        self.span = selectors.assessment_span(request.user)
        self.period = _period(request, "period", self.span)
        self.result = selectors.assessment(request.user, self.period)
        if request.GET.get("format") == "xlsx":
            return self.xlsx()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query["format"] = "xlsx"
        context.update(
            title=_("部门考评"),
            result=self.result,
            period=self.period,
            period_choices=selectors.period_choices(self.span),
            headers=[title for title, _value, _kind in COLUMNS],
            # Each cell with its heading: on a phone a row is a card of "heading: value" lines.
            table=[
                [(title, _text(value(row), kind)) for title, value, kind in COLUMNS]
                for row in self.result.rows
            ],
            total=[(title, _text(value(self.result.total), kind)) for title, value, kind in COLUMNS],
            xlsx_url=f"?{query.urlencode()}",
        )
        return context

    def xlsx(self) -> FileResponse:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("部门考评"))
        sheet.append([_("部门考评"), self.period.label])
        sheet.append([str(title) for title, _value, _kind in COLUMNS])
        for row in [*self.result.rows, self.result.total]:
            sheet.append([_cell(sheet, value(row), kind) for _title, value, kind in COLUMNS])
        buffer = io.BytesIO()
        workbook.save(buffer)
        buffer.seek(0)
        name = _("部门考评-%(p)s.xlsx") % {"p": self.period.key or _("近12个月")}
        return FileResponse(buffer, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)
