import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template.base import render_value_in_context
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_tables2.columns import library
from django_tables2.utils import Accessor, signature

from . import display
from .audit import make_readable
from .models import AuditEntry


def yes_no_column(**kwargs) -> tables.BooleanColumn:
    """是/否 in words: the default draws ✔/✘ (read out in English by screen readers) and plain columns
    print True/False."""
    return tables.BooleanColumn(yesno=(_("是"), _("否")), **kwargs)


def editable_link(url_name: str, kwarg: str = "pk", attribute: str = "pk"):
    """A `linkify` for a column that leads to a record's edit page: a link only on the records the user may
    change, plain text on the others (a clerk who may only read the categories gets no link that answers
    403). One query for the page, however many rows:

        name = tables.Column(linkify=editable_link("category-edit"))
    """

    def link(record, table):
        changeable = getattr(table, "_changeable", None)
        if changeable is None:
            changeable = table._changeable = _changeable_on_page(table)
        if record.pk not in changeable:
            return None
        return reverse(url_name, kwargs={kwarg: getattr(record, attribute)})

    return link


def _changeable_on_page(table) -> set:
    request = getattr(table, "request", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return set()
    pks = [row.record.pk for row in table.paginated_rows]
    model = table._meta.model
    return set(model.objects.restrict(user, "change").filter(pk__in=pks).values_list("pk", flat=True))


@library.register
class DateTimeColumn(tables.Column):
    """django-tables2's DateTimeColumn, without a template per cell: theirs renders
    `{{ value|date:format }}` through a Template for every cell (a third of a 25-row queue page's
    rendering). Same output: the local time in the given format (a `date` format string or the name of
    one, default SHORT_DATETIME_FORMAT). Registered, so a model's DateTimeField gets it too."""

    def __init__(self, format=None, short=True, **kwargs):
        self.format = format or ("SHORT_DATETIME_FORMAT" if short else "DATETIME_FORMAT")
        super().__init__(**kwargs)

    @classmethod
    def from_field(cls, field, **kwargs):
        if isinstance(field, models.DateTimeField):
            return cls(**kwargs)

    def render(self, value):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, self.format)

    def value(self, value):
        return value.isoformat(sep=" ")


@library.register
class DateColumn(tables.Column):
    """django-tables2's DateColumn without a template per cell (see DateTimeColumn)."""

    def __init__(self, format=None, short=True, **kwargs):
        self.format = format or ("SHORT_DATE_FORMAT" if short else "DATE_FORMAT")
        super().__init__(**kwargs)

    @classmethod
    def from_field(cls, field, **kwargs):
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            return cls(**kwargs)

    def render(self, value):
        return formats.date_format(value, self.format)

    def value(self, value):
        return value.isoformat()


class LocalDateTimeColumn(tables.Column):
    """A time in the district's local time, written the Chinese way (2026年12月2日 14:05)."""

    def render(self, value):
        return display.local_datetime(value)


class AuditTable(tables.Table):
    created_at = LocalDateTimeColumn(verbose_name=_("时间"))
    person = tables.Column(verbose_name=_("操作人"), accessor="actor_name", orderable=False)
    content_type = tables.Column(verbose_name=_("记录类型"), orderable=False)
    changes = tables.TemplateColumn(
        template_name="core/_audit_changes.html", verbose_name=_("变更"), orderable=False
    )

    class Meta:
        model = AuditEntry
        fields = [
            "created_at",
            "person",
            "action",
            "content_type",
            "object_repr",
            "changes",
            "reason",
            "request_id",
        ]
        attrs = {"class": "table table-vcenter card-table table-sm"}

    def before_render(self, request):
        # The page's entries made readable at once: one query per kind of related record, not per row.
        make_readable(row.record for row in self.paginated_rows)

    def render_person(self, record):
        return record.person

    def render_content_type(self, value):
        model = value.model_class()
        return model._meta.verbose_name if model is not None else value.model


def rows_html(table, context) -> str:
    """The rows of the table's current page, as core/table.html once drew them cell by cell in the
    template: each <td> with its column's attributes, its header as data-label (the label of the card a
    row becomes on a phone) and data-empty when it shows the column's default. A template loop asked
    django-tables2 for the column's attributes and header once per cell; here they are worked out once
    per column, and only a column whose td attributes are callables (they may read the record) asks per
    row. Each cell is django-tables2's (BoundRow.get_cell), computed by Cell without inspecting the
    render method's signature again for every cell."""
    columns = list(table.columns)
    heads = []
    for column in columns:
        static = None if _td_attrs_vary(table, column) else column.attrs["td"].as_html()
        heads.append((static, conditional_escape(column.header), Cell(table, column)))
    html = []
    for row in table.paginated_rows:
        html.append(format_html("<tr {}>", row.attrs.as_html()))
        for column, (static, header, compute) in zip(columns, heads, strict=True):
            cell = compute(row)
            if static is None:
                column.current_value, column.current_record = cell, row.record
                attrs = column.attrs["td"].as_html()
            else:
                attrs = static
            empty = " data-empty" if cell == column.default else ""
            html.append(f'<td {attrs} data-label="{header}"{empty}>{_shown(cell, column, context)}</td>')
        html.append("</tr>\n")
    return mark_safe("".join(html))  # every piece escaped above or by django-tables2


class Cell:
    """What django-tables2's BoundRow.get_cell gives for one column, for row after row: the value read
    through the column's accessor (a choice field's label, as get_FOO_display gives it), the column's
    default when empty, else its render method (the table's render_<name> or the column's) called with
    the arguments it names, then its link. The render method's signature is read once here; django-tables2
    reads it with inspect.signature for every cell. A many-to-many column, and a value the accessor
    cannot reach, are left to django-tables2 itself."""

    def __init__(self, table, column):
        self.table, self.column, self.name = table, column, column.name
        self.accessor = Accessor(column.accessor)
        self.render = column.render
        self.arguments, self.catch_all = signature(self.render)
        self.by_itself = isinstance(column.column, tables.ManyToManyColumn)
        self.choices: dict[type, bool] = {}  # per model: does the accessor end on a field with choices?

    def __call__(self, row):
        if self.by_itself:
            return row.get_cell(self.name)
        record, value = row.record, None
        penultimate, remainder = self.accessor.penultimate(record)
        if isinstance(penultimate, models.Model) and self._has_choices(record, type(penultimate)):
            display = getattr(penultimate, f"get_{remainder}_display", None)
            if display is not None:
                value, remainder = display(), None
        if remainder:
            try:
                value = self.accessor.resolve(record)
            except Exception:
                return row.get_cell(self.name)
        if value in self.column.column.empty_values:
            return self.column.default
        given = {
            "value": value,
            "record": record,
            "column": self.column.column,
            "bound_column": self.column,
            "bound_row": row,
            "table": self.table,
        }
        if self.catch_all:
            content = self.render(**given)
        elif all(name in given for name in self.arguments):
            content = self.render(**{name: given[name] for name in self.arguments})
        else:
            content = None
        return self.column.link(content, **given) if self.column.link else content

    def _has_choices(self, record, model) -> bool:
        if model not in self.choices:
            try:
                field = self.accessor.get_field(record)
            except FieldDoesNotExist:
                field = None
            self.choices[model] = bool(getattr(field, "choices", ()))
        return self.choices[model]


def _td_attrs_vary(table, column) -> bool:
    attrs = {**table.attrs, **column.column.attrs}
    td = attrs.get("td", attrs.get("cell", {}))
    return any(callable(value) for value in td.values())


def _shown(cell, column, context) -> str:
    """A cell's value as `{{ cell }}` (or `|localize`, `|unlocalize` when the column says) shows it."""
    if column.localize is None:
        return render_value_in_context(cell, context)
    return conditional_escape(formats.localize(cell, use_l10n=bool(column.localize)))
