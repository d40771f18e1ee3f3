"""The fixed set of roles (DESIGN.md, "The unit tree and scoped access") and what each may do on each
model. Kept in code, not in the database, so that a reviewer can read every grant in one place.

A grant is a set of actions (view, add, change, delete) on a model label. Its reach is the subtree of
the unit where the user holds the role, unless the grant says DISTRICT: departments need every place
of the district to handle what is dispatched to them, and read registry records district-wide."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("区系统管理员")
    DISTRICT_OFFICE = "district_office", _("区地区办")
    STREET_ADMIN = "street_admin", _("街道管理员")
    STREET_STAFF = "street_staff", _("街道工作人员")
    COMMITTEE_STAFF = "committee_staff", _("居委会工作人员")
    GRID_WORKER = "grid_worker", _("网格员")
    DEPARTMENT_STAFF = "department_staff", _("职能部门工作人员")
    RESIDENT = "resident", _("居民")
    AUDITOR = "auditor", _("审计员")


UNIT = "unit"  # reach: the subtree of the membership's unit
DISTRICT = "district"  # reach: the whole district


@dataclass(frozen=True)
class Grant:
    actions: frozenset[str]
    reach: str = UNIT


def grant(actions: str, reach: str = UNIT) -> Grant:
    return Grant(frozenset(actions.split()), reach)


REGISTRY_MODELS = (
    "registry.estate",
    "registry.building",
    "registry.buildinggroup",
    "registry.grid",
    "registry.block",
)
ALL = "view add change delete"


def _same(actions: str, labels, reach: str = UNIT) -> dict[str, Grant]:
    return {label: grant(actions, reach) for label in labels}


# Role → model label → grant. "org.unit" covers the district, streets and residential areas;
# "org.department" the departments (which are units too); "core.auditentry" the audit search page.
GRANTS: dict[str, dict[str, Grant]] = {
    Role.DISTRICT_ADMIN: {
        "org.unit": grant(ALL),
        "org.department": grant(ALL),
        "core.auditentry": grant("view"),
        **_same(ALL, REGISTRY_MODELS),
    },
    Role.DISTRICT_OFFICE: {
        "org.unit": grant("view change"),
        "org.department": grant("view change"),
        **_same("view add change", REGISTRY_MODELS),
    },
    Role.STREET_ADMIN: {
        "org.unit": grant("view change"),
        "org.department": grant("view", DISTRICT),
        **_same(ALL, REGISTRY_MODELS),
    },
    Role.STREET_STAFF: {
        "org.unit": grant("view"),
        "org.department": grant("view", DISTRICT),
        **_same("view add change", REGISTRY_MODELS),
    },
    Role.COMMITTEE_STAFF: {
        "org.unit": grant("view"),
        "org.department": grant("view", DISTRICT),
        "registry.estate": grant("view change"),
        "registry.building": grant("view add change"),
        "registry.buildinggroup": grant("view add change"),
        "registry.grid": grant("view"),
        "registry.block": grant("view"),
    },
    Role.GRID_WORKER: {
        "org.unit": grant("view"),
        "org.department": grant("view", DISTRICT),
        **_same("view", REGISTRY_MODELS),
    },
    Role.DEPARTMENT_STAFF: {
        "org.unit": grant("view", DISTRICT),
        "org.department": grant("view", DISTRICT),
        **_same("view", REGISTRY_MODELS, DISTRICT),
    },
    Role.RESIDENT: {},
    Role.AUDITOR: {
        "org.unit": grant("view"),
        "org.department": grant("view"),
        "core.auditentry": grant("view"),
        **_same("view", REGISTRY_MODELS),
    },
}

# Roles that hold at the district unit only; the others hold at a street, a residential area or a department.
DISTRICT_ROLES = (Role.DISTRICT_ADMIN, Role.DISTRICT_OFFICE, Role.AUDITOR)
STREET_ROLES = (Role.STREET_ADMIN, Role.STREET_STAFF)
STAFF_ROLES = tuple(role for role in Role if role != Role.RESIDENT)


def role_grant(role: str, label: str) -> Grant | None:
    return GRANTS.get(role, {}).get(label)


def role_allows(role: str, label: str, action: str) -> bool:
    found = role_grant(role, label)
    return bool(found and action in found.actions)
