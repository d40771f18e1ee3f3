"""The database holds what the models declare. A migration can lose a constraint silently: removing
db_index from Resident.id_index once made PostgreSQL's schema editor drop the partial unique index of
resident_document_unique with the column's own indexes, and nothing else failed."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from shequ.registry.models import Resident


def project_models():
    return [model for model in apps.get_models() if model.__module__.startswith("shequ.")]


@pytest.mark.django_db
def test_every_declared_constraint_and_index_exists_in_the_database():
    missing = []
    with connection.cursor() as cursor:
        for model in project_models():
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            declared = [c.name for c in model._meta.constraints] + [i.name for i in model._meta.indexes]
            missing += [f"{model._meta.label}.{name}" for name in declared if name not in found]
    assert not missing


def test_the_database_itself_refuses_a_second_resident_with_the_same_document(world):
    other = world.sm.resident
    with pytest.raises(IntegrityError), transaction.atomic():
        # Past every check of the services: only the database's unique index stands in the way.
        Resident.objects.filter(pk=other.pk).update(id_index=world.jn.resident.id_index)
