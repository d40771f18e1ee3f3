"""Lookups of our own (Django's "custom lookups" API), registered on every field when core loads."""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class InArray(In):
    """`field__in_array=values`: `__in` for the long lists of plain values that imports look up a batch
    at a time (2,000 blind indexes, keys, building groups). On PostgreSQL the list is one array
    parameter, `= ANY(%s)`, instead of a placeholder a value: psycopg parses and quotes a query's
    placeholders one by one in Python, 13 ms for an IN of 2,000 values (bench/excel.py). Elsewhere it is
    `__in` itself."""

    lookup_name = "in_array"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in values]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


# Foreign keys keep lookups of their own (related lookups): registered there too, for keys given as keys.
Field.register_lookup(InArray)
ForeignObject.register_lookup(InArray)
