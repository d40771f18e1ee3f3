"""Template filters for values as people read them (core.display) and the readable change history
(core.audit.make_readable). `{% load shequ %}`."""

from django import template

from shequ.core import display
from shequ.core.audit import make_readable
from shequ.core.tables import rows_html

register = template.Library()


@register.filter
def readable(value):
    """{{ value|readable }}: 是/否 for booleans, local time written the Chinese way, "—" for nothing."""
    return display.plain(value)


@register.filter
def yes_no(value):
    return display.yes_no(value)


@register.filter
def readable_changes(entry):
    """The changes of an audit entry, readable; a page of entries is made readable in bulk before it is
    rendered (history_for, AuditTable), a lone entry here."""
    if not hasattr(entry, "readable_changes"):
        make_readable([entry])
    return entry.readable_changes


@register.filter
def person(entry):
    """Who wrote an audit entry: "单位 姓名", or the system or application that wrote it."""
    if not hasattr(entry, "person"):
        make_readable([entry])
    return entry.person


@register.simple_tag(takes_context=True)
def table_rows(context, table):
    """{% table_rows table %}: the <tr> of the table's current page (core.tables.rows_html)."""
    return rows_html(table, context)
