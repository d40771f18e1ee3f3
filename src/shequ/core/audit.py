"""The audit trail (X3) and the generic write helpers that every app's services use.

Services call `create_record`, `update_record` or `record_audit` inside their transaction. The helpers
validate the model (full_clean, so model rules give the same Chinese message to pages, API and imports),
check that the written record is still within the actor's scope, and write exactly one AuditEntry."""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from . import display
from .middleware import current_request_id
from .models import AuditAction, AuditEntry


class ConflictError(ValidationError):
    """Raised when a record changed since the user loaded it (optimistic locking)."""


def _json_value(value: Any) -> Any:
    if value is None or value.__class__ in (str, int, bool):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


@functools.cache
def _snapshot_fields(model: type[models.Model]) -> tuple[tuple[str, str], ...]:
    """(name, attname) of the fields a snapshot holds: not the timestamps (the audit entry has its own
    time), not what the model lists in `audit_exclude`."""
    exclude = set(getattr(model, "audit_exclude", ()))
    return tuple(
        (field.name, field.attname)
        for field in model._meta.concrete_fields
        if not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        and field.name not in exclude
    )


def snapshot(instance: models.Model, m2m: dict[str, Iterable] | None = None) -> dict[str, Any]:
    """The record's concrete fields as JSON, many-to-many fields as sorted primary keys. Fields a model
    lists in `audit_exclude` (ciphertexts and blind indexes of personal data, whose masked forms are
    fields of their own) never reach the trail."""
    data = {
        name: _json_value(getattr(instance, attname)) for name, attname in _snapshot_fields(type(instance))
    }
    if instance.pk:
        # Many-to-many values the caller already holds (an import's row) save a query per record.
        known = m2m or {}
        for field in instance._meta.many_to_many:
            values = known[field.name] if field.name in known else getattr(instance, field.name).all()
            data[field.name] = sorted(getattr(obj, "pk", obj) for obj in values)
    return data


def audit_values(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict | None,
    after: dict | None,
    reason: str = "",
    actor_name: str = "",
    unit_path: str = "",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The fields of the audit entry for one write, by attname (`audit_entry` makes the entry of them).
    `actor_name` names a writer that is not a user (an Open311 client application, a job); `unit_path`
    saves a query when the caller already knows it."""
    (values,) = audit_rows(
        actor=actor,
        action=action,
        writes=[(instance, before, after, reason, unit_path)],
        actor_name=actor_name,
        request_id=request_id,
    )
    return values


def audit_rows(
    *,
    actor,
    action: str,
    writes: Iterable[tuple[models.Model, dict | None, dict | None, str, str]],
    actor_name: str = "",
    request_id: str | None = None,
) -> list[dict[str, Any]]:
    """`audit_values` for many writes of one actor and action, each (instance, before, after, reason,
    unit_path): what they share is worked out once (an import audits thousands of rows a batch and
    inserts them with core.bulk.insert_values)."""
    shared = {
        "actor_id": getattr(actor, "pk", None),
        "actor_name": getattr(actor, "username", "") or actor_name or _("系统"),
        "action": action,
        "request_id": current_request_id() if request_id is None else request_id,
    }
    district = f"/{settings.DISTRICT_CODE}/"
    content_types: dict[type, int] = {}
    rows = []
    for instance, before, after, reason, unit_path in writes:
        model = type(instance)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model).pk
        rows.append(
            {
                **shared,
                "content_type_id": content_types[model],
                "object_id": str(instance.pk),
                "object_repr": str(instance)[:200],
                # Records outside the unit tree (accounts) are filed under the district.
                "unit_path": unit_path or getattr(instance, "scope_path_value", lambda: "")() or district,
                "before": before,
                "after": after,
                "reason": reason,
            }
        )
    return rows


def audit_entry(**kwargs: Any) -> AuditEntry:
    """An unsaved entry for one write (see `audit_values` for the arguments)."""
    return AuditEntry(**audit_values(**kwargs))


def record_audit(**kwargs: Any) -> AuditEntry:
    """One audit entry for one write, saved (see `audit_entry` for the arguments)."""
    entry = audit_entry(**kwargs)
    entry.save()
    return entry


def record_bulk_load(model: type[models.Model], count: int, note: str) -> None:
    """One entry per bulk load of synthetic or reference data (the loader acts as the system)."""
    if count:
        AuditEntry.objects.create(
            actor=None,
            actor_name=_("演示数据载入"),
            action=AuditAction.LOAD,
            content_type=ContentType.objects.get_for_model(model),
            object_id="*",
            object_repr=f"{model._meta.verbose_name} × {count}",
            unit_path=f"/{settings.DISTRICT_CODE}/",
            after={"count": count, "note": note},
            request_id=current_request_id(),
        )


def check_in_scope(*, actor, instance: models.Model, action: str) -> None:
    """The re-check after every write: a record the actor could not reach with this action afterwards
    (moved into another street, say) rolls the whole transaction back."""
    if actor is None:  # system jobs and the demo loader act for the whole district
        return
    manager = type(instance)._default_manager
    if not manager.restrict(actor, action).filter(pk=instance.pk).exists():
        raise PermissionDenied(_("无权在该单位范围内保存此记录。"))


def _set_m2m(instance: models.Model, m2m: dict[str, Iterable]) -> None:
    for name, values in m2m.items():
        getattr(instance, name).set(values)


@transaction.atomic
def create_record(
    *,
    actor,
    model: type[models.Model],
    fields: dict[str, Any],
    m2m: dict[str, Iterable] | None = None,
    reason: str = "",
    action: str = AuditAction.CREATE,
    check_scope: bool = True,
) -> models.Model:
    """`check_scope=False` is for records outside the unit scoping (accounts), whose service checks
    the actor's right itself."""
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    if m2m:
        _set_m2m(instance, m2m)
    if check_scope:
        check_in_scope(actor=actor, instance=instance, action="add")
    record_audit(
        actor=actor, action=action, instance=instance, before=None, after=snapshot(instance), reason=reason
    )
    return instance


@transaction.atomic
def update_record(
    *,
    actor,
    instance: models.Model,
    changes: dict[str, Any],
    m2m: dict[str, Iterable] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> models.Model:
    """Apply `changes` to a fresh, locked copy of the record. When the caller passes the version it
    showed the user and the record has moved on since, nothing is written and ConflictError says so."""
    model = type(instance)
    locked = model._default_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and hasattr(locked, "version") and locked.version != expected_version:
        raise ConflictError(_("该记录已被他人修改，请刷新页面后重新编辑。"), code="conflict")
    before = snapshot(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    if m2m:
        _set_m2m(locked, m2m)
    if _without_version(snapshot(locked)) == _without_version(before):
        return locked  # nothing changed: no new version, no audit entry
    if hasattr(locked, "version"):
        locked.version = locked.version + 1
    locked.save()
    check_in_scope(actor=actor, instance=locked, action="change")
    record_audit(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        before=before,
        after=snapshot(locked),
        reason=reason,
    )
    return locked


def _without_version(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "version"}


# Reading the trail ----------------------------------------------------------------------------------
# An entry stores attribute names and raw values (codes, ids, UTC ISO times). People read it as field
# names, choice labels, records by name, "单位 姓名" and local time: `make_readable` turns a page of
# entries into that, with one query per kind of related record on the page (not one per row).


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _model_of(content_type_id: int) -> type[models.Model] | None:
    return ContentType.objects.get_for_id(content_type_id).model_class()


def _field(model: type[models.Model] | None, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _shown_keys(entry: AuditEntry, model) -> list[tuple[str, Any, Any]]:
    """The fields an update changed, without the technical ones (the record's version counter)."""
    if entry.action != AuditAction.UPDATE:
        return []
    hidden = {"version", *getattr(model, "audit_exclude", ())}
    return [change for change in entry.changed_fields() if change[0] not in hidden]


def _related_labels(wanted: dict[type[models.Model], set]) -> dict[type[models.Model], dict[str, str]]:
    """{model: {str(pk): name}} in one query per model. Only names, of records a record the reader may
    open points to (its own page shows the same names); people as "单位 姓名"."""
    user_model = get_user_model()
    labels: dict[type[models.Model], dict[str, str]] = {}
    for model, pks in wanted.items():
        pks = {pk for pk in pks if pk not in (None, "")}
        if not pks:
            continue
        queryset = model._base_manager.filter(pk__in=pks)
        if model is user_model:
            membership = model._meta.get_field("memberships").related_model
            queryset = queryset.prefetch_related(
                models.Prefetch("memberships", queryset=membership._base_manager.select_related("unit"))
            )
        labels[model] = {str(obj.pk): getattr(obj, "person_label", None) or str(obj) for obj in queryset}
    return labels


def _iso(value: Any, parse):
    if isinstance(value, str):
        try:
            return parse(value)
        except ValueError:
            return None
    return None


def _readable(field, value: Any, labels: dict) -> str:
    """One stored value as a person reads it."""
    if value is None or value == "" or value == []:
        return display.EMPTY
    if field is None:
        return str(value)
    if field.many_to_many:
        names = labels.get(field.related_model, {})
        return "、".join(names.get(str(pk), _("编号 %(pk)s") % {"pk": pk}) for pk in value)
    if field.is_relation:
        return labels.get(field.related_model, {}).get(str(value), _("编号 %(pk)s") % {"pk": value})
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return display.yes_no(value)
    if isinstance(field, models.DateTimeField):
        parsed = _iso(value, datetime.datetime.fromisoformat)
        return display.local_datetime(parsed) if parsed else str(value)
    if isinstance(field, models.DateField):
        parsed = _iso(value, datetime.date.fromisoformat)
        return display.local_date(parsed) if parsed else str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def make_readable(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Sets `readable_changes` (a list of Change) and `person` ("单位 姓名", or the name of the system or
    application that wrote) on each entry."""
    entries = list(entries)
    user_model = get_user_model()
    wanted: dict[type[models.Model], set] = defaultdict(set)
    wanted[user_model].update(entry.actor_id for entry in entries if entry.actor_id)
    pending = []
    for entry in entries:
        model = _model_of(entry.content_type_id)
        fields = [(_field(model, name), name, old, new) for name, old, new in _shown_keys(entry, model)]
        for field, _name, old, new in fields:
            if field is not None and field.is_relation and field.related_model is not None:
                for value in (old, new):
                    wanted[field.related_model].update(value if isinstance(value, list) else [value])
        pending.append((entry, fields))
    labels = _related_labels(wanted)
    for entry, fields in pending:
        entry.readable_changes = [
            Change(
                label=str(field.verbose_name) if field is not None else name,
                old=_readable(field, old, labels),
                new=_readable(field, new, labels),
            )
            for field, name, old, new in fields
        ]
        entry.person = labels.get(user_model, {}).get(str(entry.actor_id)) or entry.actor_name
    return entries


class HistoryQuerySet(models.QuerySet):
    """Audit entries that come out readable (`make_readable`) however the view slices them."""

    def _fetch_all(self):
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._iterable_class is models.query.ModelIterable:
            make_readable(self._result_cache)


def history_for(instance: models.Model) -> HistoryQuerySet:
    """The record's change history, newest first, readable (see make_readable)."""
    return HistoryQuerySet(model=AuditEntry).filter(
        content_type=ContentType.objects.get_for_model(type(instance)), object_id=str(instance.pk)
    )
