"""Bulk inserts of new records, for imports: PostgreSQL's COPY, SQLite's executemany.

`QuerySet.bulk_create` compiles every value of every row into SQL through the field's full save path
and, on SQLite, splits a batch into statements of 999 parameters (about 40 residents each). For the
rows of an import that is most of the commit's time: 20,000 residents took 3.3–3.4 s through
bulk_create on both databases, against about 1.2 s through COPY or one prepared statement
(docs/performance.md). These helpers insert records that are built and validated already, with their
primary keys allocated beforehand (the caller links other rows to them), and no model `save()` logic:
the records' models must have none that matters (their services write them through `bulk_create`
already), which is the caller's promise.

Values pass to the driver as the fields hold them where the driver takes them as they are (text,
numbers, booleans, dates, foreign keys); JSON is dumped to text; other fields (times, decimals) go
through the field's `get_db_prep_save`, as `save()` would send them; `auto_now` and `auto_now_add`
fields get the same time for the whole batch."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Sequence

from django.db import connection, models
from django.utils import timezone

# Fields whose Python values both drivers take as they are: text, numbers, booleans and dates (Django
# registers SQLite adapters for dates; psycopg adapts them itself), and foreign keys to such keys.
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DateField,
)


def _is_plain(field: models.Field) -> bool:
    if isinstance(field, models.ForeignKey):
        return _is_plain(field.target_field)
    return isinstance(field, PLAIN_FIELDS) and not isinstance(field, models.DateTimeField)


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, taken from its sequence (PostgreSQL) or after the highest
    used (SQLite: the import's transaction holds the database's write lock from its start, as
    settings' transaction_mode IMMEDIATE makes it, so no other writer takes them meanwhile)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        assert connection.in_atomic_block, "allocate_ids needs the transaction that inserts the rows"
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(column)}) FROM {quoted}")
        highest = cursor.fetchone()[0] or 0
        # AUTOINCREMENT never reuses a key, not even one of a deleted row.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        start = max(highest, found[0] if found else 0) + 1
        return list(range(start, start + count))


def _is_timestamp(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _converter(field: models.Field) -> Callable[[object], object] | None:
    """What turns the field's Python value into what the driver takes; None where nothing has to."""
    if _is_plain(field):
        return None
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        if connection.vendor == "postgresql":
            # The binary COPY's jsonb dumper writes the value (json.dumps, or the field's encoder).
            from psycopg.types.json import Jsonb

            dumps = functools.partial(json.dumps, cls=encoder)
            return (
                None
                if encoder is None
                else lambda value: None if value is None else Jsonb(value, dumps=dumps)
            )
        # JSON text, as Django sends SQLite (its own path costs several calls a value).
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def _rows(model: type[models.Model], records: Sequence, *, by_key: bool, with_pk: bool):
    """The columns and the database rows of `records` (model instances, or dicts by attname with
    `by_key`): every concrete field, the primary key only `with_pk`, timestamps the same `now`."""
    now = timezone.now()
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.generated and not _is_timestamp(field) and (with_pk or not field.primary_key)
    ]
    timestamps = [field for field in model._meta.concrete_fields if _is_timestamp(field)]
    names = [field.attname for field in fields]
    read = (operator.itemgetter if by_key else operator.attrgetter)(*names)
    if len(names) == 1:
        read = (lambda one: lambda record: (one(record),))(read)
    convert = [
        (position, to_database) for position, field in enumerate(fields) if (to_database := _converter(field))
    ]
    stamped = tuple(field.get_db_prep_save(now, connection) for field in timestamps)
    rows = []
    for record in records:
        row = read(record)
        if convert:
            row = list(row)
            for position, to_database in convert:
                row[position] = to_database(row[position])
        rows.append((*row, *stamped))
    if not by_key:
        for record in records:
            for field in timestamps:
                setattr(record, field.attname, now)
    return [field.column for field in fields + timestamps], rows


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new records of `model` in one pass, giving them primary keys first (or keeping the ones
    the caller allocated with `allocate_ids`). Sets `auto_now` fields on the objects as `save()` would."""
    if not objs:
        return
    missing = [obj for obj in objs if obj.pk is None]
    for obj, pk in zip(missing, allocate_ids(model, len(missing)), strict=True):
        obj.pk = pk
    columns, rows = _rows(model, objs, by_key=False, with_pk=True)
    insert_rows(model, columns, rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_values(model: type[models.Model], records: Sequence[dict]) -> None:
    """Insert new rows given as dicts of every field but the key and timestamps, by attname (no model
    instances: for rows nothing refers back to, such as the audit entries of an import)."""
    if records:
        insert_rows(model, *_rows(model, records, by_key=True, with_pk=False))


_COLUMN_TYPES: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def _column_types(cursor, table: str, columns: tuple[str, ...]) -> list[int]:
    """The type OIDs of a table's columns (built-in types: their OIDs are the same in every database)."""
    key = (table, columns)
    if key not in _COLUMN_TYPES:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            [connection.ops.quote_name(table)],
        )
        found = dict(cursor.fetchall())
        _COLUMN_TYPES[key] = [found[column] for column in columns]
    return _COLUMN_TYPES[key]


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert rows of database values (tuples in `columns` order) into the model's table."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary COPY: the server parses no text (audit entries' JSON went in 40% faster, residents
            # 15%); it needs each column's type, read from the catalogue once a table.
            types = _column_types(cursor, model._meta.db_table, tuple(columns))
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
