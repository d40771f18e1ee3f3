"""How values read on a page: booleans as 是/否, times in the district's local time written the Chinese way
(2026年12月2日 14:05), nothing as "—". One place, used by detail pages, tables and the change history, so
that no page shows True, None or a UTC ISO timestamp."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

EMPTY = "—"
DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"


def yes_no(value: bool | None) -> str:
    if value is None:
        return EMPTY
    return _("是") if value else _("否")


def local_datetime(value: datetime.datetime) -> str:
    """An instant in the district's time zone (settings.TIME_ZONE, Asia/Shanghai)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATETIME_FORMAT)


def local_date(value: datetime.date) -> str:
    return date_format(value, DATE_FORMAT)


def plain(value: Any) -> Any:
    """A field's value as a page shows it: booleans, empty values and times made readable; records and
    text unchanged (a record keeps its link on the detail page)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime.datetime):
        return local_datetime(value)
    if isinstance(value, datetime.date):
        return local_date(value)
    return value
