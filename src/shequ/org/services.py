"""Writes to the unit tree and to accounts. Each leaves an audit entry."""

from typing import Any

from django.db import transaction

from shequ.core.audit import create_record, record_audit, update_record

from .choices import UnitKind
from .models import Membership, Unit, User


def create_unit(*, actor, reason: str = "", **fields: Any) -> Unit:
    return create_record(actor=actor, model=Unit, fields=fields, reason=reason)


def update_unit(
    *, actor, unit: Unit, changes: dict[str, Any], expected_version: int | None = None, reason: str = ""
) -> Unit:
    return update_record(
        actor=actor, instance=unit, changes=changes, expected_version=expected_version, reason=reason
    )


def create_department(*, actor, reason: str = "", **fields: Any) -> Unit:
    district = Unit.objects.get(kind=UnitKind.DISTRICT)
    return create_record(
        actor=actor,
        model=Unit,
        fields={"kind": UnitKind.DEPARTMENT, "parent": district, **fields},
        reason=reason,
    )


@transaction.atomic
def create_user(
    *, actor, username: str, password: str, display_name: str = "", memberships=(), reason: str = ""
) -> User:
    """A user with their (role, unit) memberships. Password stored hashed; the audit keeps no hash."""
    user = User(username=username, display_name=display_name)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    for role, unit in memberships:
        grant_membership(actor=actor, user=user, role=role, unit=unit, reason=reason)
    record_audit(
        actor=actor,
        action="create",
        instance=user,
        before=None,
        after={"username": username, "display_name": display_name},
        reason=reason,
    )
    return user


def grant_membership(*, actor, user: User, role: str, unit: Unit, reason: str = "") -> Membership:
    """Accounts are managed by the district admin (and the command line); the caller checks that."""
    membership = create_record(
        actor=actor,
        model=Membership,
        fields={"user": user, "role": role, "unit": unit},
        reason=reason,
        check_scope=False,
    )
    user.__dict__.pop("_shequ_memberships", None)
    return membership
