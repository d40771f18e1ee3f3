"""The Excel engine (X4): every register imports and exports .xlsx, declared once.

A register is a subclass of `Register` naming its model, its columns (Chinese header, required or not,
choices, how a related record is found from a cell) and its natural key. From that one declaration come
the downloadable template (with drop-downs and a "说明" sheet), the import (a dry-run check, then an
all-or-nothing commit that upserts by natural key and audits every written row) and the export of a
filtered list. Pages, the API and the `shequ import` / `shequ export` commands all call the functions
at the bottom of this module.

    @excel.register
    class EstateRegister(excel.Register):
        name = "estates"
        model = Estate
        filterset_class = EstateFilter
        natural_key = ("unit", "name")
        scope_column = "unit"
        columns = [
            excel.Column("unit", _("居民区"), lookup=NEIGHBORHOODS, example="新安居委会"),
            excel.Column("name", _("小区名称"), example="示例花园"),
            excel.Column("housing_type", example=HousingType.COMMERCIAL),  # header, choices from the field
            excel.Column("built_year", example=2001),
        ]

Files are read as a stream (openpyxl read-only mode, rows in batches), so a file of a million rows needs
memory for one batch, the lookups and the natural keys seen so far, not for the file. Exports read the
columns' values with one query (no model instances) and are written in constant memory to a temporary
file. Core knows nothing of the domain: lookups, relations and hooks
(`landing_path`, `find_existing`, `build`, `save_record`, `can_reveal`) carry what a register needs."""

from __future__ import annotations

import datetime
import decimal
import functools
import gc
import itertools
import logging
import math
import re
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.files import File
from django.db import DatabaseError, models, transaction
from django.http import FileResponse, Http404
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook
from rustpy_xlsxwriter import FastExcel, Format

from . import bulk, crypto
from .audit import audit_rows, snapshot
from .middleware import current_request_id, set_request_id
from .models import AuditAction, AuditEntry, ImportJob, ImportStatus
from .scoping import grant_label, user_may
from .workbook_limits import DENSE_CELLS, check_archive, check_workbook

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ERRORS = 1000  # problems kept on a job; error_count has them all
# Rows resolved with one query per lookup and relation, and written, between progress reports. A batch's
# queries cost about the same for 500 rows as for 2,000 (a relation's IN query finds the same records, the
# households of the same building groups): with 2,000, 100,000 residents are checked in three quarters and
# committed in about 60% of the time 500 takes (bench/excel.py, docs/performance.md), for a few MB more.
BATCH_SIZE = 2000
EXPORT_CHUNK = 2000
DATA_VALIDATION_RANGE = 1048576  # Excel's last row: drop-downs apply to every row a user may fill

TEXT, INTEGER, DECIMAL, BOOLEAN, DATE = "text", "integer", "decimal", "boolean", "date"
TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "对"}
FALSE_WORDS = {"否", "无", "没有", "n", "no", "false", "0", "×", "✗", "不"}
SEPARATORS = re.compile(r"[、,，;；\n]+")


def max_upload_bytes() -> int:
    """The size cap for an uploaded file (settings.IMPORT_MAX_BYTES, SHEQU_IMPORT_MAX_BYTES)."""
    return settings.IMPORT_MAX_BYTES


def max_upload_text() -> str:
    limit = max_upload_bytes()
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB"


class CellError(Exception):
    """A cell that cannot become a value; the message is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EMPTY:
    """An empty cell in a column the file has: the field is cleared (NULL, "" or its default)."""


# Values -------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """What a person sees in a cell, as text: 1.0 is "1", a code typed as a number keeps its digits."""
    if value is None:
        return ""
    if value.__class__ is str:  # most cells: the checks below are for the others
        return value.replace("\u3000", " ").strip()
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def parse_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(_("应为整数。"))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = cell_text(value).replace(",", "")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.0*", text):
        return int(text.split(".")[0])
    raise CellError(_("“%(value)s”不是整数。") % {"value": cell_text(value)})


def parse_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, bool):
        raise CellError(_("应为数字。"))
    if isinstance(value, int | decimal.Decimal):
        return decimal.Decimal(value)
    if isinstance(value, float):
        return decimal.Decimal(repr(value))  # 1234.5, not 1234.5000000000000227...
    text = cell_text(value).replace(",", "")
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise CellError(_("“%(value)s”不是数字。") % {"value": text}) from None
    if not number.is_finite():
        raise CellError(_("“%(value)s”不是数字。") % {"value": text})
    return number


def parse_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("请填写“是”或“否”。"))


def parse_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(_("“%(value)s”不是日期，请写成 2021-06-01。") % {"value": text})


PARSERS = {INTEGER: parse_integer, DECIMAL: parse_decimal, BOOLEAN: parse_boolean, DATE: parse_date}


def _kind_of(model_field: models.Field | None) -> str:
    if isinstance(model_field, models.BooleanField):
        return BOOLEAN
    if isinstance(model_field, models.IntegerField):
        return INTEGER
    if isinstance(model_field, models.DecimalField | models.FloatField):
        return DECIMAL
    if isinstance(model_field, models.DateField) and not isinstance(model_field, models.DateTimeField):
        return DATE
    return TEXT


# Lookups and relations ----------------------------------------------------------------------------


class Lookup:
    """Finds a related record from what a person writes in a cell: a residential area by its 12-digit
    code or by its name, say. The candidates are loaded once per import or export (a district has a few
    hundred units), so resolving a cell costs no query. For large sets (estates, buildings), declare a
    `Relation` instead, resolved per batch."""

    def __init__(
        self,
        label: str,
        queryset: Callable[[], models.QuerySet],
        *,
        fields: Sequence[str] = ("code", "name"),
        export_field: str = "name",
        description: str = "",
    ):
        self.label = label
        self.queryset = queryset
        self.fields = tuple(fields)
        self.export_field = export_field
        self.description = description

    def describe(self) -> str:
        return str(self.description or _("%(label)s的代码或名称") % {"label": self.label})

    def load(self) -> LoadedLookup:
        return LoadedLookup(self)


class LoadedLookup:
    def __init__(self, lookup: Lookup):
        self.lookup = lookup
        self.index: dict[str, dict[str, list]] = {name: defaultdict(list) for name in lookup.fields}
        self.export_counts: dict[str, int] = defaultdict(int)
        self.by_pk: dict[Any, Any] = {}
        self.queryset = lookup.queryset()
        for obj in self.queryset:
            for name in lookup.fields:
                self.index[name][cell_text(getattr(obj, name))].append(obj)
            self.export_counts[cell_text(getattr(obj, lookup.export_field))] += 1
            self.by_pk[obj.pk] = obj
        self.positions = {pk: position for position, pk in enumerate(self.by_pk)}

    def find(self, text: str):
        for name in self.lookup.fields:
            hits = self.index[name].get(text, ())
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise CellError(
                    _("有多个%(label)s叫“%(value)s”，请改填代码。")
                    % {"label": self.lookup.label, "value": text}
                )
        raise CellError(_("找不到%(label)s“%(value)s”。") % {"label": self.lookup.label, "value": text})

    def export(self, obj) -> str:
        """The name when it is unambiguous (what people read), otherwise the code (what re-imports)."""
        if obj is None:
            return ""
        value = cell_text(getattr(obj, self.lookup.export_field))
        if self.export_counts.get(value, 0) == 1:
            return value
        return cell_text(getattr(obj, self.lookup.fields[0]))

    def export_pk(self, pk: Any) -> str | None:
        """`export` of the record with this primary key. A record the lookup does not offer for import
        (an inactive case category) is still exported: loaded on first sight, by its code."""
        if pk is None:
            return None
        if pk not in self.by_pk:
            self.by_pk[pk] = self.queryset.model._base_manager.filter(pk=pk).first()
        return self.export(self.by_pk[pk]) or None

    def position(self, pk: Any) -> int:
        """Where the record stands in the lookup's order (many-to-many cells list records in it)."""
        return self.positions.get(pk, len(self.positions))


@dataclass(frozen=True)
class Relation:
    """A foreign key found from several columns, one IN query per batch: an estate by its name within
    the residential area of another column, a building by estate and 楼号.

    `match` maps a lookup path on the related model to a column: {"unit": "area", "name": "estate_name"}.
    `message` is formatted with the columns' texts: "居民区“%(area)s”中没有小区“%(estate_name)s”。"."""

    field: str
    model: type[models.Model]
    match: dict[str, str]
    column: str
    message: str
    select_related: tuple[str, ...] = ()

    def queryset(self, rows: list[Row]) -> models.QuerySet:
        query = {}
        for path, column in self.match.items():
            query[f"{path}__in"] = {_key_part(row.values[column]) for row in rows}
        queryset = self.model._default_manager.filter(**query)
        related = set(self.select_related)
        for path in self.match:
            parts = path.split("__")
            if len(parts) > 1:
                related.add("__".join(parts[:-1]))
        return queryset.select_related(*sorted(related)) if related else queryset

    def key_of(self, obj: models.Model) -> tuple:
        return tuple(_path_value(obj, path) for path in self.match)

    def key_for(self, row: Row) -> tuple:
        return tuple(_key_part(row.values[column]) for column in self.match.values())


def _path_value(obj: models.Model, path: str) -> Any:
    """The value at a lookup path ("estate__unit"): a related record's primary key, or a plain value."""
    parts = path.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part)
    model_field = obj._meta.get_field(parts[-1])
    return getattr(obj, model_field.attname)


def _key_part(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, decimal.Decimal):
        return value.normalize()
    return value


# Columns and registers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a register's sheet.

    `name` is the key of the parsed value and, by default, the model field it writes; a column that
    only helps to find a related record (the residential area of a building) says `field=None`.
    Header, required, kind and choices default from the model field. `lookup` finds a related record
    from the cell; `many` splits the cell on 、 , ; into several (a many-to-many field). `validators`
    are Django validators run on the parsed value. `export` is the path of the exported value through
    foreign keys ("estate.name"; the field by default), `export_format` a function of that value giving
    the cell. A `sensitive` column is exported through `mask`, or its `export` path holds the masked form,
    unless the register lets the user see it in full (`Register.can_reveal`): then `reveal`
    is the path of the value's ciphertext, decrypted into the cell. A masked value sent back unchanged
    leaves the record as it is."""

    name: str
    header: str = ""
    required: bool | None = None
    kind: str | None = None
    choices: Any = None
    lookup: Lookup | None = None
    many: bool = False
    field: str | None = ""
    validators: tuple[Callable[[Any], None], ...] = ()
    example: Any = None
    help: str = ""
    export: str | None = None
    export_format: Callable[[Any], Any] | None = None
    sensitive: bool = False
    mask: Callable[[Any], str] | None = None
    reveal: str | None = None
    aliases: tuple[str, ...] = ()
    width: int = 0
    importable: bool = True

    def bind(self, model: type[models.Model]) -> Column:
        """The column with its defaults taken from the model field."""
        assert not self.sensitive or self.mask or self.export, (
            f"{self.name}: a sensitive column exports masked"
        )
        field_name = self.name if self.field == "" else self.field
        model_field = None
        if field_name:
            try:
                model_field = model._meta.get_field(field_name)
            except FieldDoesNotExist:
                if self.field:  # named explicitly: a typo in a declaration must not pass silently
                    raise
                field_name = None
        choices = self.choices
        if choices is None and model_field is not None and model_field.choices:
            choices = model_field.choices
        elif isinstance(choices, type) and issubclass(choices, models.Choices):
            choices = choices.choices
        required = self.required
        if required is None:
            required = bool(
                model_field is not None
                and not model_field.blank
                and not model_field.has_default()
                and not model_field.many_to_many
            )
        return replace(
            self,
            field=field_name,
            header=str(self.header or (model_field.verbose_name if model_field is not None else self.name)),
            required=required,
            kind=self.kind or (TEXT if (choices or self.lookup) else _kind_of(model_field)),
            choices=tuple((code, str(label)) for code, label in choices) if choices else None,
            width=self.width or max(12, min(40, 2 * len(str(self.header or self.name)) + 6)),
        )

    def describe(self) -> str:
        """Format and allowed values, for the 说明 sheet and the upload page."""
        if self.choices:
            return _("从下拉列表选择：%(values)s") % {
                "values": "、".join(label for _c, label in self.choices)
            }
        if self.lookup:
            text = self.lookup.describe()
            return _("%(text)s；多个用顿号“、”分隔") % {"text": text} if self.many else text
        return {
            INTEGER: _("整数"),
            DECIMAL: _("数字，可带小数"),
            BOOLEAN: _("“是”或“否”"),
            DATE: _("日期，如 2021-06-01"),
        }.get(self.kind, _("文字"))

    def example_cell(self) -> Any:
        value = self.example
        if value is None:
            return None
        if self.choices:
            return dict(self.choices).get(str(value), str(value))
        if self.kind == BOOLEAN:
            return _("是") if value else _("否")
        if self.kind == DECIMAL:
            return float(value)
        return value


@dataclass
class Row:
    """One data row on its way through a check or a commit."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    m2m: dict[str, list] = field(default_factory=dict)
    key: tuple | None = None
    existing: models.Model | None = None
    path: str | None = None

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    def has_error(self, *columns: str) -> bool:
        return any(column in columns for column, _message in self.errors) if columns else bool(self.errors)


class Register:
    """The declaration of one register; subclass it, fill in the attributes, decorate with @register.

    name            the register's name in URLs and commands ("estates")
    model           the model its rows become
    title           the Chinese name, for pages and file names (default: the model's verbose_name_plural)
    scope_label     the grant checked: 'add' to import, 'view' to export (default: the model's label)
    columns         Column declarations, in sheet order
    relations       Relation declarations: foreign keys found from several columns
    natural_key     model fields that identify a record: a row with the key of an existing record updates
                    it, any other row creates one
    scope_column    the column holding the unit the record lands in, checked against the user's scope
                    before anything is looked up ("无权在该居民区导入")
    error_columns   model field → column, for model validation errors on fields no column writes
    filterset_class the list page's filterset: an export writes exactly the rows the list shows
    select_related  for loading existing records
    export_option_names GET parameters that are export options rather than filters (e.g. "reveal")
    """

    name: str = ""
    model: type[models.Model]
    title: str = ""
    scope_label: str | None = None
    columns: Sequence[Column] = ()
    relations: Sequence[Relation] = ()
    natural_key: tuple[str, ...] = ()
    scope_column: str | None = None
    error_columns: dict[str, str] = {}
    filterset_class: Any = None
    select_related: tuple[str, ...] = ()
    export_option_names: tuple[str, ...] = ()

    def __init__(self):
        # Headers are the file format: they must not follow the language of whoever loads this first.
        with translation.override(settings.LANGUAGE_CODE):
            self.columns = [column.bind(self.model) for column in self.columns]
            self.title = str(self.title or self.model._meta.verbose_name_plural)
        self.by_name = {column.name: column for column in self.columns}
        headers = [column.header for column in self.columns]
        assert len(set(headers)) == len(headers), f"{self.name}: two columns share a header"
        errors = {column.field: column.name for column in self.columns if column.field}
        errors.update({relation.field: relation.column for relation in self.relations})
        errors.update(self.error_columns)
        self.field_columns = errors
        for key in self.natural_key:
            assert key in errors, f"{self.name}: natural key {key} is written by no column or relation"
        self._field_names = {field.name for field in self.model._meta.concrete_fields}
        self._parsed_valid = {
            column.field
            for column in self.columns
            if column.field in self._field_names
            and (
                column.choices
                or (
                    column.kind in (BOOLEAN, DATE) and not self.model._meta.get_field(column.field).validators
                )
            )
        }

    def __str__(self) -> str:
        return self.title

    # Declarations derived -------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.scope_label or grant_label(self.model)

    def importable_columns(self) -> list[Column]:
        return [column for column in self.columns if column.importable]

    def key_headers(self) -> list[str]:
        headers = []
        for key in self.natural_key:
            relation = next((r for r in self.relations if r.field == key), None)
            names = list(relation.match.values()) if relation else [self.field_columns[key]]
            headers += [
                self.by_name[name].header for name in names if self.by_name[name].header not in headers
            ]
        return headers

    def header_of(self, column: str) -> str:
        found = self.by_name.get(column)
        return found.header if found else ""

    # Hooks a register may override ----------------------------------------------------------------

    def base_queryset(self) -> models.QuerySet:
        """Every record of the register, unrestricted: imports find existing records here (the
        scope is checked on each row), exports restrict it to what the user may view."""
        return self.model._default_manager.all()

    def export_queryset(self, user) -> models.QuerySet:
        return self.base_queryset().restrict(user, "view")

    def fixed_fields(self) -> dict[str, Any]:
        """Fields every created record gets (a department's kind and parent), computed once per run."""
        return {}

    def landing_path(self, row: Row) -> str | None:
        """The unit path the row's record will belong to, for the scope check before the write. By
        default the path of the record in `scope_column`."""
        if not self.scope_column:
            return None
        value = row.values.get(self.scope_column)
        if isinstance(value, models.Model) and hasattr(value, "scope_path_value"):
            return value.scope_path_value()
        return None

    def find_existing(self, rows: list[Row], *, lock: bool) -> dict[tuple, models.Model]:
        """The existing records of a batch by natural key (one query for their keys, one to load them).
        Registers whose key is not a plain field (a resident found by the blind index of an ID number)
        override this."""
        if not rows:
            return {}
        query = {f"{key}__in_array": {row.key[i] for row in rows} for i, key in enumerate(self.natural_key)}
        # First the keys alone, on the natural key's index: a new register's batches find nothing, and the
        # full query's joins (and the list's ordering) cost 50 ms a batch of 2,000 residents on PostgreSQL.
        found = list(self.base_queryset().filter(**query).order_by().values_list("pk", flat=True))
        if not found:
            return {}
        queryset = self.base_queryset().filter(pk__in_array=found).order_by()
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        m2m = [column.field for column in self.columns if column.many and column.field]
        if m2m:
            queryset = queryset.prefetch_related(*m2m)
        if lock:
            # Rows of one import are locked until it commits; no one else's edit lands in between.
            queryset = queryset.select_for_update(of=("self",))
        return {self.key_of(obj): obj for obj in queryset}

    def key_of(self, obj: models.Model) -> tuple:
        return tuple(_path_value(obj, key) for key in self.natural_key)

    def prepare(self, rows: list[Row], *, write: bool) -> None:
        """Derive, for a batch, fields the rows' cells do not hold directly (a resident's encrypted ID
        number and its blind index, which is the natural key) before their keys are computed; report
        problems with `row.error(column, message)`. `write` is False in a check: what only the write
        needs (a ciphertext) may be left out."""

    def validate(self, instance: models.Model, row: Row) -> None:
        """Validate one record before it is written. Registers that check uniqueness and related records
        for a whole batch at once may skip those per-row queries here (see `vouched_fields`)."""
        instance.full_clean()

    def vouched_fields(self, row: Row) -> set[str]:
        """The model fields a row's record needs no clean_fields for: those the row does not set (a new
        record's defaults, an existing record's stored values) and those the column's parsing already
        limited to valid values (a choice, a date, 是/否, with no validators of the field's own). For big
        registers' `validate`: clean_fields was a sixth of a check's time."""
        given = row.fields.keys()
        return (self._field_names - given) | (self._parsed_valid & given)

    def refused_change_message(self, existing: models.Model) -> str:
        """What a row matching a record the user may not change is told."""
        return _("无权修改该记录。")

    def after_batch(self, written: list[tuple[Row, models.Model, dict | None]]) -> None:
        """Called once per written batch, inside the commit's transaction, before the scope check and the
        audit: for writes better done in bulk (many-to-many links)."""

    def build(self, row: Row, fixed: dict[str, Any]) -> models.Model:
        """A new record from a row's field values."""
        return self.model(**{**row.fields, **fixed})

    def save_record(self, instance: models.Model, *, row: Row, actor, created: bool) -> None:
        """Write one validated record. Registers with more to do per row (encrypting personal data,
        say) override this; the engine validates before and checks scope and audits after."""
        instance.save()
        for name, values in row.m2m.items():
            getattr(instance, name).set(values)

    def can_reveal(self, user, options: dict[str, str]) -> bool:
        """Whether an export shows sensitive columns in full (default: never)."""
        return False

    def before_export(self, *, user, options: dict[str, str], queryset: models.QuerySet) -> None:
        """Called before an export is written: a register with personal data records the access."""


_registers: dict[str, Register] = {}
_discovered = False


def register(cls: type[Register]) -> type[Register]:
    """Class decorator: declares a register to the engine."""
    instance = cls()
    assert instance.name and instance.name not in _registers, f"register name {instance.name!r} taken"
    _registers[instance.name] = instance
    return cls


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("excel")  # <app>/excel.py of each installed app declares its registers
        _discovered = True


def registers() -> list[Register]:
    _discover()
    return list(_registers.values())


def get_register(name: str) -> Register:
    """The register of that name; Http404 for an unknown one (URLs and the API name registers)."""
    _discover()
    try:
        return _registers[name]
    except KeyError:
        raise Http404(_("没有名为“%(name)s”的登记簿。") % {"name": name}) from None


def register_for(model: type[models.Model], label: str) -> Register | None:
    """The register behind a list page (same model and grant label), if one is declared."""
    _discover()
    for candidate in _registers.values():
        if candidate.model is model and candidate.label == label:
            return candidate
    return None


def check_access(register_: Register, user, action: str) -> None:
    """Import and templates need 'add' on the register, export 'view' (under the model's own label or
    one of its extra labels: a department exports the cases sent to it); otherwise PermissionDenied."""
    if not user_may(user, register_.model, action, register_.scope_label):
        raise PermissionDenied(
            _("您的岗位无权导入%(title)s。") % {"title": register_.title}
            if action == "add"
            else _("您的岗位无权导出%(title)s。") % {"title": register_.title}
        )


# Reading ------------------------------------------------------------------------------------------


def sniff(fileobj: IO[bytes]) -> None:
    """Refuses what is not an .xlsx workbook with a Chinese message (ValidationError)."""
    position = fileobj.tell()
    head = fileobj.read(8)
    fileobj.seek(position)
    if not head:
        raise ValidationError(_("文件是空的。"), code="empty")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError(
            _(
                "这是旧版 Excel（.xls）或加了密码的工作簿，请在 Excel 中“另存为”.xlsx 格式（不设密码）后再上传。"
            ),
            code="xls",
        )
    if not head.startswith(b"PK\x03\x04"):
        raise ValidationError(_("无法读取该文件：请上传 Excel 工作簿（.xlsx）。"), code="not_xlsx")
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            check_archive(archive)  # a zip bomb is refused at once; the rest when the job reads it
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(_("文件已损坏，无法作为 Excel 工作簿（.xlsx）读取。"), code="corrupt") from None
    finally:
        fileobj.seek(position)
    if "xl/workbook.xml" not in names:
        raise ValidationError(
            _("这不是 Excel 工作簿（.xlsx），请用 Excel 或 WPS 表格另存为 .xlsx。"), code="not_xlsx"
        )


# Files up to this size are parsed with python-calamine (Rust; about twenty times faster than openpyxl's
# read-only mode, but it holds the sheet's cells in memory: roughly 50 bytes a cell). Bigger files are
# streamed with openpyxl, in constant memory whatever their length (a million rows stay well under the
# 500 MB the platform allows an import).
CALAMINE_MAX_BYTES = 16 * 1024 * 1024


def _source_size(source: str | Path | IO[bytes]) -> int | None:
    if isinstance(source, str | Path):
        return Path(source).stat().st_size
    try:
        position = source.tell()
        source.seek(0, 2)
        size = source.tell()
        source.seek(position)
        return size
    except (AttributeError, OSError):
        return None


@contextmanager
def open_rows(source: str | Path | IO[bytes]) -> Iterator[tuple[int | None, Iterator[Sequence]]]:
    """The first sheet's rows as sequences of values (empty cells None); and the row count the file declares
    (an estimate: files written by other programs may not say, or say wrong). Small files are read with
    python-calamine, big ones streamed with openpyxl's read-only mode (see CALAMINE_MAX_BYTES)."""
    size = _source_size(source)
    # Bounds first: a small hostile file must not reach a parser that trusts it (core.workbook_limits).
    extent = check_workbook(source)
    if size is not None and size <= CALAMINE_MAX_BYTES and extent.cells <= DENSE_CELLS:
        yield from _calamine_rows(source)
        return
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a malformed file; each means the same to the user
        logger.info("unreadable import file", exc_info=True)
        raise ValidationError(_("文件已损坏，无法作为 Excel 工作簿（.xlsx）读取。"), code="corrupt") from None
    try:
        if not workbook.worksheets:
            raise ValidationError(_("工作簿中没有工作表。"), code="empty")
        sheet = workbook.worksheets[0]
        declared = sheet.max_row
        # A wrong <dimension> would make openpyxl stop early; read every row the sheet has.
        sheet.reset_dimensions()
        yield declared, _guarded(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _calamine_rows(source: str | Path | IO[bytes]):
    try:
        if isinstance(source, str | Path):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            source.seek(0)
            workbook = CalamineWorkbook.from_filelike(source)
        if not workbook.sheet_names:
            raise ValidationError(_("工作簿中没有工作表。"), code="empty")
        sheet = workbook.get_sheet_by_index(0)
    except ValidationError:
        raise
    except Exception:  # calamine raises its own kinds on a malformed sheet; each means the same to the user
        logger.info("import file damaged", exc_info=True)
        raise ValidationError(
            _("文件已损坏，无法读完：请在 Excel 中打开并重新保存后再上传。"), code="corrupt"
        ) from None
    first_row = sheet.start[0] if sheet.start else 0

    def rows() -> Iterator[Sequence]:
        for _blank in range(first_row):  # keep Excel's row numbers when the sheet starts lower down
            yield ()
        for row in sheet.iter_rows():
            yield [None if cell == "" else cell for cell in row]

    yield sheet.height + first_row, rows()


def _guarded(rows: Iterator[tuple]) -> Iterator[tuple]:
    """A sheet whose XML breaks off in the middle (a truncated or damaged file) is a problem of the
    file, reported like one, not a crash. Only openpyxl's parsing runs inside this generator."""
    try:
        yield from rows
    except Exception:
        logger.info("import file damaged", exc_info=True)
        raise ValidationError(
            _("文件已损坏，无法读完：请在 Excel 中打开并重新保存后再上传。"), code="corrupt"
        ) from None


def _normalize_header(value: Any) -> str:
    return re.sub(r"\s+", "", cell_text(value)).strip("*＊")


# Import -------------------------------------------------------------------------------------------


@dataclass
class Problem:
    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Outcome:
    """What a check or a commit found and did."""

    rows_total: int = 0
    rows_checked: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_written: int = 0
    error_count: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, row: int | None, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.problems) < MAX_ERRORS:
            self.problems.append(Problem(row, column, message))

    @property
    def ok(self) -> bool:
        return self.error_count == 0


@contextmanager
def _objects_frozen() -> Iterator[None]:
    """Leaves the objects alive when a run starts (Django's own, the lookups) out of garbage collection
    until it ends. A big import allocates millions of objects, and every full collection walked all of
    Django again: 4.6 s of a 60 s commit of 100,000 residents, 2.3 s frozen."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Rollback(Exception):
    """Raised inside the commit's transaction so that nothing of a failed import remains."""


class _RowRefused(Exception):
    """A row that cannot be written; its problems are already on the row."""


class ImportRun:
    """One pass over a file: a check (write=False) or a commit (write=True, inside one transaction).

    Per batch of rows: parse the cells, check the landing unit against the user's scope, resolve the
    relations (one query each), detect natural keys repeated in the file, load the existing records
    (one query), validate what changes with the model's full_clean, and in a commit write it, check the
    written records are in the user's scope (one query) and bulk-create their audit entries."""

    def __init__(
        self,
        register_: Register,
        *,
        user,
        source: str | Path | IO[bytes],
        write: bool,
        request_id: str = "",
        reason: str = "",
        progress: Callable[[Outcome, int | None], None] | None = None,
    ):
        self.register = register_
        self.user = user
        self.source = source
        self.write = write
        self.request_id = request_id
        self.reason = reason
        self.progress = progress
        self.outcome = Outcome()
        self.loaded: dict[Lookup, LoadedLookup] = {}
        self.choice_maps: dict[str, dict[str, str]] = {}
        self.related_found: dict[str, dict[tuple, models.Model | None]] = {}
        self.seen: dict[int, int] = {}  # hash of a natural key → the first row with it
        self.columns: list[Column | None] = []
        self.estimate: int | None = None
        self._fixed_cache: dict | None = None
        label = register_.label
        self.prefixes = {
            action: (None if user is None else tuple(user.scope_prefixes(label, action)))
            for action in ("add", "change")
        }

    # The whole pass -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        with _objects_frozen():
            return self._run()

    def _run(self) -> Outcome:
        try:
            if self.write:
                with transaction.atomic():
                    self._read()
                    if not self.outcome.ok:
                        raise _Rollback
            else:
                self._read()
        except _Rollback:
            self.outcome.rows_written = 0
        except ValidationError as error:  # a file-level problem: nothing was read or written
            self.outcome.rows_written = 0
            for message in error.messages:
                self.outcome.add(None, "", message)
        return self.outcome

    def _read(self) -> None:
        with open_rows(self.source) as (declared, rows):
            self.estimate = max(0, declared - 1) if declared else None
            header = next(rows, None)
            if header is None or not any(cell_text(cell) for cell in header):
                raise ValidationError(_("文件是空的：第一行应为列名。"))
            if not self._map_header(header):
                return
            examples = self._example_texts()
            batch: list[Row] = []
            for number, cells in enumerate(rows, start=2):
                texts = [cell_text(cells[i]) if i < len(cells) else "" for i in range(len(self.columns))]
                if not any(texts):
                    continue  # blank rows (often formatted, never filled) are not data
                if texts == examples:
                    continue  # the template's example row, left in place
                batch.append(self._parse(number, cells, texts))
                if len(batch) >= BATCH_SIZE:
                    self._process(batch)
                    batch = []
            if batch:
                self._process(batch)
        if self.outcome.rows_total == 0 and self.outcome.ok:
            self.outcome.add(None, "", _("文件中没有数据行：请从第二行起填写。"))

    def _map_header(self, header: tuple) -> bool:
        by_header: dict[str, Column] = {}
        for column in self.register.importable_columns():
            for text in (column.header, *column.aliases):
                by_header[_normalize_header(text)] = column
        seen: set[str] = set()
        for cell in header:
            text = _normalize_header(cell)
            if not text:
                self.columns.append(None)
                continue
            column = by_header.get(text)
            if column is None:
                self.outcome.add(
                    1,
                    cell_text(cell),
                    _("未知的列“%(header)s”。可用的列：%(headers)s。")
                    % {
                        "header": cell_text(cell),
                        "headers": "、".join(c.header for c in self.register.importable_columns()),
                    },
                )
            elif column.name in seen:
                self.outcome.add(
                    1, column.header, _("列“%(header)s”出现了两次。") % {"header": column.header}
                )
            seen.add(column.name if column else "")
            self.columns.append(column)
        for column in self.register.importable_columns():
            if column.required and column.name not in seen:
                self.outcome.add(1, column.header, _("缺少必填列“%(header)s”。") % {"header": column.header})
        return self.outcome.ok

    def _example_texts(self) -> list[str]:
        return [cell_text(column.example_cell()) if column else "" for column in self.columns]

    # Cells ----------------------------------------------------------------------------------------

    def lookup(self, lookup: Lookup) -> LoadedLookup:
        if lookup not in self.loaded:
            self.loaded[lookup] = lookup.load()
        return self.loaded[lookup]

    def _parse(self, number: int, cells: tuple, texts: list[str]) -> Row:
        row = Row(number)
        for index, column in enumerate(self.columns):
            if column is None:
                continue
            raw = cells[index] if index < len(cells) else None
            try:
                row.values[column.name] = self._cell(column, raw, texts[index])
            except CellError as error:
                row.error(column.name, error.message)
            except ValidationError as error:
                row.error(column.name, " ".join(error.messages))
        return row

    def _cell(self, column: Column, raw: Any, text: str) -> Any:
        if not text:
            if column.required:
                raise CellError(_("必填。"))
            return [] if column.many else EMPTY
        if column.many:
            parts = [part.strip() for part in SEPARATORS.split(text) if part.strip()]
            if column.lookup:
                loaded = self.lookup(column.lookup)
                return [loaded.find(part) for part in parts]
            return parts
        if column.lookup:
            value = self.lookup(column.lookup).find(text)
        elif column.choices:
            value = self._choice(column, text)
        elif column.kind in PARSERS:
            value = PARSERS[column.kind](raw)
        else:
            value = text
        for validator in column.validators:
            validator(value)
        return value

    def _choice(self, column: Column, text: str) -> str:
        choices = self.choice_maps.get(column.name)
        if choices is None:
            # A label as shown in the drop-down, or the code in any case ("registered", "REGISTERED").
            choices = self.choice_maps[column.name] = {
                **{str(code).lower(): code for code, _label in column.choices},
                **{label: code for code, label in column.choices},
            }
        code = choices.get(text, choices.get(text.lower()))
        if code is not None:
            return code
        raise CellError(
            _("“%(value)s”不是允许的值，可选：%(values)s。")
            % {"value": text, "values": "、".join(label for _c, label in column.choices)}
        )

    # A batch --------------------------------------------------------------------------------------

    def _process(self, rows: list[Row]) -> None:
        register_ = self.register
        self._check_landing(rows)
        self._resolve_relations(rows)
        keyed = self._assign_fields_and_keys(rows)
        existing = register_.find_existing(keyed, lock=self.write)
        changeable = self._changeable([existing[row.key] for row in keyed if row.key in existing])
        fixed = self._fixed()
        written: list[tuple[Row, models.Model, dict | None]] = []
        for row in rows:
            self.outcome.rows_checked += 1
            if row.errors:
                self._report(row)
                continue
            row.existing = existing.get(row.key) if row.key is not None else None
            try:
                result = self._validate(row, fixed, changeable)
            except ValidationError as error:
                self._map_validation(row, error)
                self._report(row)
                continue
            except _RowRefused:
                self._report(row)
                continue
            if result is None:
                self.outcome.rows_unchanged += 1
                continue
            instance, before = result
            if before is None:
                self.outcome.rows_created += 1
            else:
                self.outcome.rows_updated += 1
            if self.write and self.outcome.ok:
                try:
                    register_.save_record(instance, row=row, actor=self.user, created=before is None)
                except ValidationError as error:
                    self._map_validation(row, error)
                    self._report(row)
                    continue
                except DatabaseError as error:
                    # Validation passed, so this is a race (someone saved the same record meanwhile) or
                    # a constraint the model does not check. The transaction is unusable now: stop.
                    logger.warning("import row %s failed: %s", row.number, error)
                    self.outcome.add(
                        row.number, "", _("数据库拒绝保存这一行（可能有人同时修改了同一记录），请重新导入。")
                    )
                    raise _Rollback from error
                written.append((row, instance, before))
        if written:
            if self.write:
                self.register.after_batch(written)
            self._after_writes(written)
        if self.progress:
            self.progress(self.outcome, self.estimate)

    def _report(self, row: Row) -> None:
        for column, message in row.errors:
            self.outcome.add(row.number, self.register.header_of(column) or _("整行"), message)

    def _covered(self, path: str, action: str) -> bool:
        prefixes = self.prefixes[action]
        return prefixes is None or any(path.startswith(prefix) for prefix in prefixes)

    def _check_landing(self, rows: list[Row]) -> None:
        """Rows landing outside every unit where the user may add or change this register are refused
        before their related records are looked up (nothing about other streets is revealed)."""
        column = self.register.scope_column or ""
        lookup = self.register.by_name[column].lookup if column in self.register.by_name else None
        for row in rows:
            if row.has_error(column or ""):
                continue  # the unit itself could not be read: its cell already has a problem
            row.path = self.register.landing_path(row)
            if row.path and not (self._covered(row.path, "add") or self._covered(row.path, "change")):
                place = lookup.label if lookup else _("单位")
                row.error(column, _("无权在该%(place)s导入。") % {"place": place})

    def _resolve_relations(self, rows: list[Row]) -> None:
        for relation in self.register.relations:
            columns = list(relation.match.values())
            # Rows whose own cells for this relation are fine are resolved even if another cell has a
            # problem, so that the report lists every problem of a row at once.
            ready = [
                row
                for row in rows
                if not row.has_error(*columns, self.register.scope_column or "")
                and all(row.values.get(c, EMPTY) is not EMPTY for c in columns)
            ]
            # Records found (or not) for earlier batches are remembered for the run: the batches of a big
            # file name the same few hundred building groups again and again.
            found = self.related_found.setdefault(relation.field, {})
            keys = [relation.key_for(row) for row in ready]
            unknown = [row for row, key in zip(ready, keys, strict=True) if key not in found]
            if unknown:
                fetched = {relation.key_of(obj): obj for obj in relation.queryset(unknown)}
                for row in unknown:
                    key = relation.key_for(row)
                    found[key] = fetched.get(key)
            for row, key in zip(ready, keys, strict=True):
                obj = found[key]
                if obj is None:
                    texts = {c: cell_text(row.values[c]) for c in columns}
                    row.error(relation.column, relation.message % texts)
                else:
                    row.fields[relation.field] = obj

    def _assign_fields_and_keys(self, rows: list[Row]) -> list[Row]:
        for row in rows:
            self.outcome.rows_total += 1
            if row.errors:
                continue
            for name, value in row.values.items():
                column = self.register.by_name[name]
                if not column.field:
                    continue
                if column.many:
                    row.m2m[column.field] = value
                else:
                    row.fields[column.field] = self._field_value(column.field, value)
        # Every row, even one with a problem already: the report should list all of a row's problems.
        self.register.prepare(rows, write=self.write)
        keyed = []
        for row in rows:
            if row.errors:
                continue
            if any(key not in row.fields for key in self.register.natural_key):
                continue  # an optional key column left out of the file: always a new record
            row.key = tuple(_key_part(row.fields[key]) for key in self.register.natural_key)
            digest = hash(row.key)
            first = self.seen.get(digest)
            if first is not None:
                row.error(
                    self.register.field_columns[self.register.natural_key[-1]],
                    _("与第 %(row)d 行重复：%(keys)s 相同的记录只能出现一次。")
                    % {"row": first, "keys": " + ".join(self.register.key_headers())},
                )
                continue
            self.seen[digest] = row.number
            keyed.append(row)
        return keyed

    def _field_value(self, name: str, value: Any) -> Any:
        if value is not EMPTY:
            return value
        model_field = self.register.model._meta.get_field(name)
        if model_field.null:
            return None
        if model_field.has_default():
            return model_field.get_default()
        return ""

    def _changeable(self, instances: list[models.Model]) -> set:
        if self.user is None or not instances:
            return {obj.pk for obj in instances}
        return set(
            self.register.base_queryset()
            .restrict(self.user, "change")
            .filter(pk__in_array=[obj.pk for obj in instances])
            .order_by()
            .values_list("pk", flat=True)
        )

    def _fixed(self) -> dict:
        if self._fixed_cache is None:
            self._fixed_cache = self.register.fixed_fields()
        return self._fixed_cache

    def _validate(self, row: Row, fixed: dict, changeable: set) -> tuple[models.Model, dict | None] | None:
        """The record the row makes (validated) and its snapshot before, or None when nothing changes."""
        existing = row.existing
        scope_column = self.register.scope_column or ""
        if existing is None:
            if row.path and not self._covered(row.path, "add"):
                row.error(scope_column, _("无权在此新增%(title)s。") % {"title": self.register.title})
                raise _RowRefused
            self._refuse_masked(row)
            instance = self.register.build(row, fixed)
            self.register.validate(instance, row)
            return instance, None
        changes = self._changes(existing, row)
        m2m_changed = any(
            {obj.pk for obj in values} != {obj.pk for obj in getattr(existing, name).all()}
            for name, values in row.m2m.items()
        )
        if not changes and not m2m_changed:
            return None
        if existing.pk not in changeable:
            row.error(scope_column, self.register.refused_change_message(existing))
            raise _RowRefused
        before = snapshot(existing)
        for name, value in changes.items():
            setattr(existing, name, value)
        self.register.validate(existing, row)
        if hasattr(existing, "version"):
            existing.version += 1
        return existing, before

    def _refuse_masked(self, row: Row) -> None:
        """A new record cannot be created from a masked value (an export's 138****5678)."""
        for column in self.register.columns:
            if column.sensitive and column.field in row.fields and "*" in cell_text(row.fields[column.field]):
                row.error(column.name, _("请填写完整的值，不能用打码后的值。"))
        if row.errors:
            raise _RowRefused

    def _changes(self, instance: models.Model, row: Row) -> dict[str, Any]:
        changes = {}
        for name, value in row.fields.items():
            model_field = instance._meta.get_field(name)
            column = self.register.by_name.get(self.register.field_columns.get(name, ""))
            if model_field.is_relation:
                old, new = getattr(instance, model_field.attname), _key_part(value)
            else:
                old = model_field.value_from_object(instance)
                new = model_field.to_python(value) if value is not None else None
                if column is not None and column.sensitive and column.mask and new == column.mask(old):
                    continue  # the masked value of an export, sent back: unchanged
            if old != new:
                changes[name] = value
        return changes

    def _map_validation(self, row: Row, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                row.error("", message)
            return
        for name, messages in error.message_dict.items():
            column = "" if name == NON_FIELD_ERRORS else self.register.field_columns.get(name, "")
            for message in messages:
                row.error(column, message)

    def _after_writes(self, written: list[tuple[Row, models.Model, dict | None]]) -> None:
        """One query checks that every written record is in the user's scope (as core.audit's
        check_in_scope does per record) and gives the unit paths for the audit entries."""
        model = self.register.model
        paths: dict[Any, str] = {}
        for action, created in (("add", True), ("change", False)):
            pks = [instance.pk for _row, instance, before in written if (before is None) == created]
            if not pks:
                continue
            queryset = model._default_manager.all()
            if self.user is not None:
                queryset = queryset.restrict(self.user, action)
            found = dict(queryset.filter(pk__in_array=pks).order_by().values_list("pk", model.scope_path))
            for row, instance, before in written:
                if (before is None) == created and instance.pk not in found:
                    self.outcome.add(
                        row.number,
                        self.register.header_of(self.register.scope_column or "") or _("整行"),
                        _("无权在该单位范围内保存此记录。"),
                    )
            paths.update(found)
        if not self.outcome.ok:
            raise _Rollback
        reason = _("%(reason)s第 %(row)d 行")
        entries = audit_rows(
            actor=self.user,
            action=AuditAction.IMPORT,
            writes=[
                (
                    instance,
                    before,
                    snapshot(instance, m2m=row.m2m),
                    reason % {"reason": self.reason, "row": row.number},
                    paths.get(instance.pk, ""),
                )
                for row, instance, before in written
            ],
            request_id=self.request_id,
        )
        bulk.insert_values(AuditEntry, entries)
        self.outcome.rows_written += len(written)


# Jobs: the service every entry point (page, API, command, huey task) calls --------------------------


def progress_key(job_id: int) -> str:
    return f"shequ:import-progress:{job_id}"


def read_progress(job: ImportJob) -> dict[str, int | None]:
    """Rows checked and written so far. While a job runs its counts live in huey's key-value storage
    (the commit's transaction hides database writes until it ends); afterwards on the job row. A running
    job's progress also has its rate (rows a second since the job started) and the seconds left at that
    rate, when the number of rows is known."""
    if job.is_running:
        from huey.contrib.djhuey import HUEY

        try:
            value = HUEY.get(progress_key(job.pk), peek=True)
        except Exception:  # progress is a nicety: a storage hiccup must not break the page
            logger.warning("import progress unavailable", exc_info=True)
            value = None
        if value:
            return {**value, **_pace(job, value)}
    return {
        "rows_checked": job.rows_checked,
        "rows_written": job.rows_written,
        "rows_total": job.rows_total or None,
    }


def _pace(job: ImportJob, value: dict) -> dict[str, int | None]:
    """Rows a second since the job (its check, or its commit) started, and the seconds left at that rate.
    The commit checks every row again as it writes, so its pace is that of the rows checked too."""
    done, total = value.get("rows_checked") or 0, value.get("rows_total")
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0
    if not done or elapsed <= 0:
        return {"rate": None, "seconds_left": None}
    rate = done / elapsed
    left = math.ceil((total - done) / rate) if total and total > done else (0 if total else None)
    return {"rate": round(rate), "seconds_left": left}


def _progress_writer(
    job: ImportJob, also: Callable[[Outcome, int | None], None] | None = None
) -> Callable[[Outcome, int | None], None]:
    from huey.contrib.djhuey import HUEY

    def write(outcome: Outcome, estimate: int | None) -> None:
        if also is not None:  # the command line's terminal progress
            also(outcome, estimate)
        try:
            HUEY.put(
                progress_key(job.pk),
                {
                    "rows_checked": outcome.rows_checked,
                    "rows_written": outcome.rows_written,
                    "rows_total": estimate,
                },
            )
        except Exception:
            logger.warning("could not store import progress", exc_info=True)

    return write


def _new_job(*, user, register_name: str, content: File) -> ImportJob:
    """A job for a file: refused (PermissionDenied) without 'add' on the register, and with a Chinese
    ValidationError for a file that is not a usable .xlsx (too big, empty, another format)."""
    register_ = get_register(register_name)
    check_access(register_, user, "add")
    if content.size > max_upload_bytes():
        raise ValidationError(
            _("文件超过 %(limit)s 的上限，请拆成几个文件分别导入。") % {"limit": max_upload_text()},
            code="too_big",
        )
    content.seek(0)
    sniff(content.file)
    job = ImportJob(
        register=register_.name,
        original_name=Path(content.name or "import.xlsx").name[:255],
        user=user,
        unit_path=f"/{settings.DISTRICT_CODE}/",
    )
    job.file.save("import.xlsx", content, save=False)  # stored under a random name (import_upload_to)
    job.save()
    return job


def start_import(*, user, register_name: str, upload: File) -> ImportJob:
    """Store an uploaded file as a new import job of `user` and queue its check (huey; inline when
    huey runs immediate). Pages and the API call this."""
    from .tasks import check_import

    job = _new_job(user=user, register_name=register_name, content=upload)
    check_import(job.pk)
    job.refresh_from_db()
    return job


def _finish(job: ImportJob, outcome: Outcome, status: str, **extra: Any) -> None:
    job.rows_total = outcome.rows_total
    job.rows_checked = outcome.rows_checked
    job.rows_created = outcome.rows_created
    job.rows_updated = outcome.rows_updated
    job.rows_unchanged = outcome.rows_unchanged
    job.rows_written = outcome.rows_written
    job.error_count = outcome.error_count
    job.errors = [problem.as_dict() for problem in outcome.problems]
    job.status = status
    job.finished_at = timezone.now()
    for name, value in extra.items():
        setattr(job, name, value)
    job.save()


def _run(
    job: ImportJob, *, write: bool, progress: Callable[[Outcome, int | None], None] | None = None
) -> Outcome:
    """Runs a check or a commit for a job and records the outcome on the job row (outside the
    commit's transaction). An unexpected failure marks the job failed; it never escapes."""
    from huey.contrib.djhuey import HUEY

    register_ = get_register(job.register)
    user = get_user_model().objects.get(pk=job.user_id)  # a fresh user: memberships loaded once, now
    # Whatever the services called during the run log or audit is traced to the job, then the caller's
    # request id (an inline run in tests and commands) is restored.
    previous = current_request_id()
    set_request_id(job.audit_request_id)
    try:
        with job.file.open("rb") as handle:
            run = ImportRun(
                register_,
                user=user,
                source=handle,
                write=write,
                request_id=job.audit_request_id,
                reason=_("Excel 导入“%(file)s”") % {"file": job.original_name},
                progress=_progress_writer(job, also=progress),
            )
            outcome = run.run()
    except Exception:
        logger.exception("import job %s failed", job.pk)
        outcome = Outcome()
        _finish(
            job,
            outcome,
            ImportStatus.FAILED,
            message=_("导入因内部错误中止，没有写入任何数据（任务编号 %(id)s）。请联系系统管理员。")
            % {"id": job.pk},
        )
        return outcome
    finally:
        set_request_id(previous)
        try:
            HUEY.delete(progress_key(job.pk))
        except Exception:
            pass
    if not outcome.ok:
        _finish(
            job,
            outcome,
            ImportStatus.INVALID,
            message=_("发现 %(n)d 个问题，没有写入任何数据。") % {"n": outcome.error_count},
        )
    elif write:
        _finish(
            job,
            outcome,
            ImportStatus.DONE,
            message=_("已导入：新增 %(created)d 条，修改 %(updated)d 条，未变 %(unchanged)d 条。")
            % {
                "created": outcome.rows_created,
                "updated": outcome.rows_updated,
                "unchanged": outcome.rows_unchanged,
            },
        )
    else:
        _finish(
            job,
            outcome,
            ImportStatus.CHECKED,
            message=_("检查通过：将新增 %(created)d 条，修改 %(updated)d 条，未变 %(unchanged)d 条。")
            % {
                "created": outcome.rows_created,
                "updated": outcome.rows_updated,
                "unchanged": outcome.rows_unchanged,
            },
        )
    return outcome


def check_job(job: ImportJob, progress: Callable[[Outcome, int | None], None] | None = None) -> Outcome:
    """The dry run: every problem of the file, nothing written."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.CHECKING, started_at=timezone.now(), finished_at=None
    )
    job.refresh_from_db()
    return _run(job, write=False, progress=progress)


def commit_job(job: ImportJob, progress: Callable[[Outcome, int | None], None] | None = None) -> Outcome:
    """The commit: checks everything again and writes all rows in one transaction, or none."""
    job.refresh_from_db()
    if job.status != ImportStatus.IMPORTING:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING, started_at=timezone.now())
        job.refresh_from_db()
    return _run(job, write=True, progress=progress)


def request_commit(*, user, job: ImportJob) -> ImportJob:
    """The owner confirms a checked import: queue its commit. A job not in 检查通过 is refused
    (ValidationError); a double click queues it once."""
    from .tasks import commit_import

    if job.user_id != getattr(user, "pk", None):
        raise PermissionDenied(_("只有上传者本人可以确认导入。"))
    check_access(get_register(job.register), user, "add")
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.IMPORTING, started_at=timezone.now(), finished_at=None
    )
    if not claimed:
        job.refresh_from_db()
        raise ValidationError(
            _("该导入当前状态为“%(status)s”，只有检查通过的导入才能确认。")
            % {"status": job.get_status_display()},
            code="not_checked",
        )
    commit_import(job.pk)
    job.refresh_from_db()
    return job


def import_file(
    *, user, register_name: str, path: str | Path, commit: bool, progress=None, write_progress=None
) -> ImportJob:
    """The command line's import: the same job, checked and (with commit) written synchronously.
    `progress` and `write_progress` receive (outcome, estimated rows) after each batch of the check and
    of the commit."""
    path = Path(path)
    with path.open("rb") as handle:
        job = _new_job(user=user, register_name=register_name, content=File(handle, name=path.name))
    outcome = check_job(job, progress=progress)
    if commit and outcome.ok:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING, started_at=timezone.now())
        commit_job(job, progress=write_progress)
    job.refresh_from_db()
    return job


# Writing files ------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FILL = PatternFill("solid", fgColor="E7EEF7")
EXAMPLE_FONT = Font(italic=True, color="808080")


def _xlsx_response(fileobj: IO[bytes], filename: str) -> FileResponse:
    fileobj.seek(0)
    # FileResponse writes Content-Disposition with filename* (RFC 6266, UTF-8) for a Chinese name.
    return FileResponse(fileobj, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def write_template(register_: Register, fileobj: IO[bytes]) -> None:
    """The import template: the header, one example row (left in place, it is skipped), drop-downs
    for choice and yes/no columns, and a 说明 sheet on every column."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = register_.title[:31]
    columns = register_.importable_columns()
    options = workbook.create_sheet("选项")
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        example = sheet.cell(row=2, column=index, value=column.example_cell())
        example.font = EXAMPLE_FONT
        sheet.column_dimensions[letter].width = column.width
        if column.kind == TEXT and not column.choices:
            # Codes typed into a text column stay text (310106006002, not 3.10106E+11).
            sheet.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
        values = [label for _code, label in column.choices] if column.choices else None
        if column.kind == BOOLEAN:
            values = [_("是"), _("否")]
        if values:
            for row, value in enumerate(values, start=1):
                options.cell(row=row, column=index, value=value)
            validation = DataValidation(
                type="list",
                formula1=f"'选项'!${letter}$1:${letter}${len(values)}",
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle=_("不是允许的值"),
                error=_("请从下拉列表中选择。"),
            )
            validation.add(f"{letter}2:{letter}{DATA_VALIDATION_RANGE}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    if options.max_row == 1 and options["A1"].value is None:
        workbook.remove(options)  # no drop-downs in this register
    else:
        options.sheet_state = "hidden"
    notes = workbook.create_sheet("说明", 1)
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 8
    notes.column_dimensions["C"].width = 50
    notes.column_dimensions["D"].width = 50
    notes.column_dimensions["E"].width = 20
    notes.append([_("《%(title)s》导入说明") % {"title": register_.title}])
    notes["A1"].font = Font(bold=True, size=14)
    for line in general_notes(register_):
        notes.append([line])
    notes.append([])
    notes.append([_("列名"), _("必填"), _("格式与允许的值"), _("说明"), _("示例")])
    for cell in notes[notes.max_row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for column in columns:
        notes.append(
            [
                column.header,
                _("是") if column.required else _("否"),
                column.describe(),
                str(column.help),
                cell_text(column.example_cell()),
            ]
        )
        for cell in notes[notes.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(fileobj)


def general_notes(register_: Register) -> list[str]:
    return [
        _(
            "1. 第一行是列名，请勿修改；黄色底的列必填。第二行灰色斜体是示例，导入时会被忽略，可以保留或覆盖。"
        ),
        _("2. 按“%(keys)s”匹配已有记录：已有的更新，没有的新增；未出现在文件中的记录不会被删除。")
        % {"keys": " + ".join(register_.key_headers())},
        _("3. 文件中缺少的非必填列保持原值；列存在但单元格留空表示清空该项。"),
        _(
            "4. 先检查、后导入：检查会列出每个问题所在的行号和列；确认导入时整个文件要么全部写入，要么一条也不写入。"
        ),
        _("5. 只能导入您有权管理的单位范围内的记录。文件不超过 %(limit)s。") % {"limit": max_upload_text()},
    ]


def template_response(register_: Register) -> FileResponse:
    handle = tempfile.TemporaryFile()
    write_template(register_, handle)
    return _xlsx_response(handle, _("%(title)s导入模板.xlsx") % {"title": register_.title})


def filter_queryset(register_: Register, user, params, request=None) -> models.QuerySet:
    """The register's rows the user may view, narrowed by the list page's filters. Invalid filters
    raise ValidationError rather than silently exporting more than the list shows."""
    queryset = register_.export_queryset(user)
    if register_.filterset_class is None:
        return queryset
    if request is None:  # the command line: filtersets read the user from the request
        request = SimpleNamespace(user=user)
    params = params.copy() if hasattr(params, "copy") else dict(params)
    for name in register_.export_option_names:
        params.pop(name, None)
    filterset = register_.filterset_class(params, queryset=queryset, request=request)
    if not filterset.is_valid():
        messages = [
            f"{filterset.form.fields[name].label if name in filterset.form.fields else name}：{' '.join(errors)}"
            for name, errors in filterset.form.errors.items()
        ]
        raise ValidationError(_("筛选条件无效：%(errors)s") % {"errors": "；".join(messages)}, code="filters")
    return filterset.qs


def export_rows(register_: Register, queryset: models.QuerySet, *, reveal: bool) -> Iterator[list]:
    """The exported cells of each record of `queryset`, in column order: one query for the columns'
    values, joined in SQL, and per chunk one query for each many-to-many column; no model instances.
    Building instances (five a resident, with its building group, building and estate) was most of an
    export's time (docs/performance.md)."""
    plan = ExportPlan(register_, reveal=reveal)
    values = queryset.values_list(*plan.paths).prefetch_related(None)
    iterator = values.iterator(chunk_size=EXPORT_CHUNK)
    while chunk := list(itertools.islice(iterator, EXPORT_CHUNK)):
        yield from plan.rows(chunk)


class ExportPlan:
    """How each column of a register is exported: the value path it reads (a model field, or a path
    through foreign keys such as "building_group.building.estate.name") and what turns the stored value
    into a cell (a lookup's name or code, a choice's label, 是/否, a mask, a decryption)."""

    def __init__(self, register_: Register, *, reveal: bool):
        self.model = register_.model
        self.paths = ["pk"]
        self.links: list[tuple[Any, str, str]] = []  # many-to-many: (through model, source, target)
        self.cells: list[tuple[int, Callable[[Any], Any]]] = []  # (position in a record, convert)
        loaded: dict[Lookup, LoadedLookup] = {}
        many = []
        for column in register_.columns:
            lookup = loaded.setdefault(column.lookup, column.lookup.load()) if column.lookup else None
            if column.many:
                assert lookup is not None, f"{register_.name}.{column.name}: a many column needs a lookup"
                # A record carries its many-to-many values after its paths' (see `rows`).
                many.append((len(self.cells), self._joined(lookup)))
                self.cells.append((0, _cell_value))
                self.links.append(self._link(column.field))
                continue
            path = column.export or column.field or column.name
            convert: Callable[[Any], Any] = _cell_value
            if column.sensitive:
                if reveal and column.reveal:
                    path, convert = column.reveal, _decrypted
                elif column.mask:
                    convert = column.mask
            elif lookup is not None:
                convert = lookup.export_pk
            elif column.choices:
                convert = functools.partial(_label, dict(column.choices))
            elif column.kind == BOOLEAN:
                convert = _yes_no
            if column.export_format:
                convert = _compose(convert, column.export_format)
            self.cells.append((len(self.paths), convert))
            self.paths.append(path.replace(".", "__"))
        for index, (cell, convert) in enumerate(many):
            self.cells[cell] = (len(self.paths) + index, convert)

    def _link(self, name: str) -> tuple[Any, str, str]:
        """The through model of a many-to-many field and the names of its two foreign keys."""
        field = self.model._meta.get_field(name)
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name()).attname
        target = through._meta.get_field(field.m2m_reverse_field_name()).attname
        return through, source, target

    @staticmethod
    def _joined(lookup: LoadedLookup) -> Callable[[list], str | None]:
        def join(pks: list) -> str | None:
            return "、".join(lookup.export_pk(pk) for pk in sorted(pks, key=lookup.position)) or None

        return join

    def rows(self, chunk: list[tuple]) -> Iterator[list]:
        pks = [record[0] for record in chunk]
        links = []
        for through, source, target in self.links:
            found: dict[Any, list] = defaultdict(list)
            for owner, related in through._default_manager.filter(**{f"{source}__in_array": pks}).values_list(
                source, target
            ):
                found[owner].append(related)
            links.append(found)
        for record in chunk:
            if links:
                record = (*record, *(found.get(record[0], []) for found in links))
            yield [convert(record[position]) for position, convert in self.cells]


EXCEL_TEXT_LIMIT = 32767  # characters in one cell (Excel's specifications and limits)


def _cell_value(value: Any) -> Any:
    """A stored value as the writer takes it: empty text is an empty cell, times are local."""
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        return value if len(value) <= EXCEL_TEXT_LIMIT else value[:EXCEL_TEXT_LIMIT]
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        # As text, the way the import reads it back (a cell's own date format says nothing of time zones).
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")
    return value


def _label(labels: dict, value: Any) -> Any:
    return labels.get(value, value) if value not in (None, "") else None


def _compose(outer: Callable[[Any], Any], inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: outer(inner(value))


def _yes_no(value: Any) -> str | None:
    return None if value is None else (_("是") if value else _("否"))


def _decrypted(token: str) -> str | None:
    return crypto.decrypt(token) if token else None


def write_sheet(fileobj: IO[bytes], *, title: str, columns: Sequence[Column], rows: Iterator[list]) -> int:
    """Writes a header and rows to `fileobj` as an .xlsx in constant memory, whatever the number of rows,
    and returns the number of rows. rust_xlsxwriter (through rustpy-xlsxwriter) writes about ten times as
    fast as openpyxl's write-only mode (docs/performance.md); it takes each row as a dict by header."""
    headers = [column.header for column in columns]
    first = next(rows, None)
    if first is None:
        return _write_header_only(fileobj, title=title, columns=columns)
    count = 0

    def records() -> Iterator[dict]:
        nonlocal count
        for row in itertools.chain((first,), rows):
            count += 1
            yield dict(zip(headers, row, strict=True))

    formats = [Format().set_num_format("yyyy-mm-dd") if column.kind == DATE else None for column in columns]
    with tempfile.TemporaryDirectory(prefix="shequ-export-") as directory:
        # A path, not a buffer: the writer then keeps only a row at a time in memory.
        path = Path(directory) / "export.xlsx"
        (
            FastExcel(str(path))
            .format(bold_headers=True)
            .freeze(row=1)
            .sheet(
                title[:31],
                records(),
                column_widths=[column.width for column in columns],
                column_formats=formats,
            )
            .save()
        )
        with path.open("rb") as written:
            shutil.copyfileobj(written, fileobj)
    return count


def _write_header_only(fileobj: IO[bytes], *, title: str, columns: Sequence[Column]) -> int:
    """An export with no rows still has its header (the writer takes its header from the first row)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=1, column=index, value=column.header).font = HEADER_FONT
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    workbook.save(fileobj)
    return 0


def write_export(
    register_: Register,
    *,
    user,
    queryset: models.QuerySet,
    fileobj: IO[bytes],
    options: dict | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Writes the rows of `queryset` with the register's columns, in constant memory however many rows.
    Returns the number of rows written. `progress` receives the rows written so far, every EXPORT_CHUNK."""
    options = options or {}
    reveal = register_.can_reveal(user, options)
    register_.before_export(user=user, options=options, queryset=queryset)
    rows = export_rows(register_, queryset, reveal=reveal)
    return write_sheet(
        fileobj,
        title=register_.title,
        columns=register_.columns,
        rows=rows if progress is None else _reporting(rows, progress),
    )


def _reporting(rows: Iterator[list], progress: Callable[[int], None]) -> Iterator[list]:
    count = 0
    for row in rows:
        yield row
        count += 1
        if count % EXPORT_CHUNK == 0:
            progress(count)
    progress(count)


def export_response(register_: Register, *, user, params, request=None) -> FileResponse:
    check_access(register_, user, "view")
    queryset = filter_queryset(register_, user, params, request)
    options = {name: params.get(name, "") for name in register_.export_option_names}
    handle = tempfile.TemporaryFile()
    write_export(register_, user=user, queryset=queryset, fileobj=handle, options=options)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _xlsx_response(handle, f"{register_.title}_{stamp}.xlsx")


def write_error_report(job: ImportJob, fileobj: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("问题"))
    for letter, width in zip("ABC", (10, 20, 80), strict=True):
        sheet.column_dimensions[letter].width = width
    title = WriteOnlyCell(
        sheet, value=_("“%(file)s”的问题（共 %(n)d 个）") % {"file": job.original_name, "n": job.error_count}
    )
    title.font = Font(bold=True)
    sheet.append([title])
    if job.error_count > len(job.errors):
        sheet.append(
            [_("只列出前 %(shown)d 个问题，改正后重新检查可看到其余问题。") % {"shown": len(job.errors)}]
        )
    header = []
    for text in (_("行号"), _("列"), _("问题")):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = HEADER_FONT
        header.append(cell)
    sheet.append(header)
    for problem in job.errors:
        sheet.append([problem.get("row"), problem.get("column") or _("整个文件"), problem.get("message")])
    workbook.save(fileobj)


def error_report_response(job: ImportJob) -> FileResponse:
    handle = tempfile.TemporaryFile()
    write_error_report(job, handle)
    stem = Path(job.original_name).stem or _("导入")
    return _xlsx_response(handle, _("%(name)s_问题清单.xlsx") % {"name": stem})
