"""core.bulk: records inserted in bulk read back exactly as records saved one by one, on both databases."""

import datetime

from django.db import transaction
from django.utils import timezone

from shequ.core import bulk
from shequ.core.audit import audit_values
from shequ.core.models import AuditAction, AuditEntry
from shequ.registry.models import Household, Resident

COMPARED = [
    field.attname
    for field in Resident._meta.concrete_fields
    if field.attname not in ("id", "created_at", "updated_at")
]


def test_a_resident_inserted_in_bulk_reads_back_as_a_saved_one(world):
    saved = world.jn.resident
    copy = Resident.objects.get(pk=saved.pk)
    copy.pk = None
    copy.id_index = "another-index"  # the constraint: one resident a document
    before = timezone.now()
    bulk.insert(Resident, [copy])
    assert copy.pk and copy.pk != saved.pk and not copy._state.adding
    stored = Resident.objects.get(pk=copy.pk)
    expected = {name: getattr(saved, name) for name in COMPARED} | {"id_index": "another-index"}
    assert {name: getattr(stored, name) for name in COMPARED} == expected
    assert before <= stored.created_at == stored.updated_at == copy.created_at <= timezone.now()
    assert isinstance(stored.birth_date, datetime.date)


def test_audit_entries_inserted_from_values_keep_json_times_and_foreign_keys(world):
    admin = world.user("admin")
    after = {"name": "张三", "tags": [3, 1], "moved_in_on": "2001-05-01", "nested": {"ok": True}}
    entries = [
        audit_values(
            actor=admin,
            action=AuditAction.IMPORT,
            instance=world.department,
            before=None if i else {"old": "值"},
            after=after,
            reason=f"第 {i} 行",
            request_id="bulk-test",
        )
        for i in range(3)
    ]
    before = timezone.now()
    bulk.insert_values(AuditEntry, entries)
    stored = list(AuditEntry.objects.filter(request_id="bulk-test").order_by("pk"))
    assert [entry.reason for entry in stored] == ["第 0 行", "第 1 行", "第 2 行"]
    assert [entry.before for entry in stored] == [{"old": "值"}, None, None]
    assert all(entry.after == after and entry.actor == admin for entry in stored)
    assert all(entry.content_type.model_class() is type(world.department) for entry in stored)
    assert all(before <= entry.created_at <= timezone.now() for entry in stored)


def test_keys_are_new_even_after_the_newest_record_is_gone(world):
    household = Household.objects.create(unit=world.jn.area, room="甲")
    gone = household.pk
    household.delete()
    with transaction.atomic():
        keys = bulk.allocate_ids(Household, 3)
    assert len(set(keys)) == 3 and min(keys) > gone


def test_households_may_name_heads_inserted_after_them(world):
    """Circular references inside one transaction: a new household is inserted headed by a resident
    whose row follows (the foreign keys are checked at commit)."""
    resident = Resident.objects.get(pk=world.jn.resident.pk)
    resident.pk = None
    resident.id_index = "head-index"
    with transaction.atomic():
        (resident.pk,) = bulk.allocate_ids(Resident, 1)
        household = Household(unit=world.jn.area, room="乙", head_id=resident.pk)
        bulk.insert(Household, [household])
        resident.household_id = household.pk
        bulk.insert(Resident, [resident])
    assert Household.objects.get(pk=household.pk).head == resident
    assert Resident.objects.get(pk=resident.pk).household == household


def test_nothing_to_insert_runs_no_query(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        bulk.insert(Resident, [])
        bulk.insert_values(AuditEntry, [])
        bulk.insert_rows(Resident.tags.through, ["resident_id", "residenttag_id"], [])
