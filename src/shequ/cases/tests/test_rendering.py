"""The faster renderings (core.tables.rows_html, core.renderers.FormRenderer) give what django-tables2's
cell-by-cell template loop and Django's own widget templates gave, character for character once the
whitespace between tags is set aside."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.template import Context, Template
from django.test import RequestFactory

from shequ.cases.models import Case, Category, Summons
from shequ.cases.tables import CaseTable, CategoryTable, SummonsTable
from shequ.core.models import AuditEntry
from shequ.core.renderers import FormRenderer
from shequ.core.tables import AuditTable, rows_html

# core/table.html's row loop before rows_html: django-tables2 asked for each cell's attributes and header.
CELL_BY_CELL = Template(
    "{% load l10n %}{% for row in table.paginated_rows %}<tr {{ row.attrs.as_html }}>"
    '{% for column, cell in row.items %}<td {{ column.attrs.td.as_html }} data-label="{{ column.header }}"'
    "{% if cell == column.default %} data-empty{% endif %}>{% if column.localize == None %}{{ cell }}"
    "{% else %}{% if column.localize %}{{ cell|localize }}{% else %}{{ cell|unlocalize }}{% endif %}"
    "{% endif %}</td>{% endfor %}</tr>{% endfor %}"
)


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


def prepared(table_class, queryset, request):
    table = table_class(queryset)  # as {% render_table %} prepares it
    table.request = request
    table.paginate(per_page=25)
    table.before_render(request)
    return table


def both(table_class, queryset, request):
    context = Context({"table": prepared(table_class, queryset, request), "request": request})
    old = CELL_BY_CELL.render(context)
    return squeeze(old), squeeze(rows_html(prepared(table_class, queryset, request), context))


@pytest.mark.django_db
def test_table_rows_are_drawn_as_django_tables2_drew_them(world, new_case):
    case = new_case()
    new_case(code="S0301", urgency="urgent", description="<b>路灯</b> 不亮 & 漏水")
    request = RequestFactory().get("/")
    request.user = world.user("jiangning")
    checked = 0
    for table_class, queryset in [
        (CaseTable, Case.objects.select_related("category__parent", "unit", "assignee")),
        (CategoryTable, Category.objects.select_related("parent")),
        (SummonsTable, Summons.objects.all()),
        (AuditTable, AuditEntry.objects.select_related("actor", "content_type")),
    ]:
        old, new = both(table_class, queryset, request)
        assert new == old, table_class.__name__
        checked += new.count("<tr ")
    assert checked > 5  # rows were drawn, not two empty strings compared
    assert case.code in both(CaseTable, Case.objects.all(), request)[1]


class EveryKindOfSelect(forms.Form):
    plain = forms.ChoiceField(choices=[("", "全部"), ("a", "甲 <b>&"), ("b", 'say "乙"')], initial="b")
    grouped = forms.ChoiceField(choices=[("组一", [("1", "一"), ("2", "二")]), ("3", "三")], initial="2")
    several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")], initial=["x", "z"])
    yes_no = forms.NullBooleanField(
        widget=forms.NullBooleanSelect(attrs={"class": "form-select", "disabled": True})
    )
    radios = forms.ChoiceField(choices=[("r", "R"), ("s", "S")], widget=forms.RadioSelect)


def test_drop_downs_are_drawn_as_djangos_templates_drew_them():
    for name in EveryKindOfSelect.base_fields:
        theirs = EveryKindOfSelect(renderer=DjangoTemplates())[name]
        ours = EveryKindOfSelect(renderer=FormRenderer())[name]
        assert squeeze(ours) == squeeze(theirs), name
    drawn = str(EveryKindOfSelect(renderer=FormRenderer())["plain"])
    assert "甲 &lt;b&gt;&amp;" in drawn and 'value="b" selected' in drawn
