"""数据看板 and 部门考评: two read-only pages over cases.selectors (T6.1, T2.2, G10).

The dashboard shows one unit (the user's own by default; `?unit=<code>` picks another inside the user's
scope, 404 outside it) over a year (`?year=2025`; by default the 12 months up to the latest case). The
assessment shows one row per department over a period (`?period=2025`, `2025-Q3` or `2025-07`), and
`?format=xlsx` downloads the same table."""

from __future__ import annotations

import io

from django.contrib import messages
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from shequ.core.excel import XLSX_CONTENT_TYPE
from shequ.core.views import ScopedMixin

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
        context.update(
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
            table=[[_text(value(row), kind) for _title, value, kind in COLUMNS] for row in self.result.rows],
            total=[_text(value(self.result.total), kind) for _title, value, kind in COLUMNS],
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
