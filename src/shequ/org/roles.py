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
# "core.calendarday" is the district's holiday table (节假日安排): one for the whole district, read by all
# staff (every time limit depends on it), kept by the district office and the technical administrator.
# People (居民 and 户) are personal data (PIPL): departments do not read them; "reveal" (the full ID
# or phone number, with a reason) belongs to those who serve residents directly and to the district
# office, not to the technical administrator or the auditor, who see masked values.
PEOPLE_MODELS = ("registry.resident", "registry.household")

GRANTS: dict[str, dict[str, Grant]] = {
    Role.DISTRICT_ADMIN: {
        "org.unit": grant(ALL),
        "org.department": grant(ALL),
        "core.calendarday": grant("view add change", DISTRICT),
        "core.auditentry": grant("view"),
        "core.personaldataaccess": grant("view"),
        "registry.residenttag": grant("view add change"),
        **_same(ALL, REGISTRY_MODELS),
        **_same("view", PEOPLE_MODELS),
    },
    Role.DISTRICT_OFFICE: {
        "org.unit": grant("view change"),
        "org.department": grant("view change"),
        "core.calendarday": grant("view add change", DISTRICT),
        "core.personaldataaccess": grant("view"),
        "registry.residenttag": grant("view add change"),
        **_same("view add change", REGISTRY_MODELS),
        **_same("view reveal", PEOPLE_MODELS),
    },
    Role.STREET_ADMIN: {
        "org.unit": grant("view change"),
        "org.department": grant("view", DISTRICT),
        "core.calendarday": grant("view", DISTRICT),
        "registry.residenttag": grant("view", DISTRICT),
        **_same(ALL, REGISTRY_MODELS),
        **_same("view add change reveal", PEOPLE_MODELS),
    },
    Role.STREET_STAFF: {
        "org.unit": grant("view"),
        "org.department": grant("view", DISTRICT),
        "core.calendarday": grant("view", DISTRICT),
        "registry.residenttag": grant("view", DISTRICT),
        **_same("view add change", REGISTRY_MODELS),
        **_same("view add change reveal", PEOPLE_MODELS),
    },
    Role.COMMITTEE_STAFF: {
        "org.unit": grant("view"),
        "org.department": grant("view", DISTRICT),
        "core.calendarday": grant("view", DISTRICT),
        "registry.residenttag": grant("view", DISTRICT),
        "registry.estate": grant("view change"),
        "registry.building": grant("view add change"),
        "registry.buildinggroup": grant("view add change"),
        "registry.grid": grant("view"),
        "registry.block": grant("view"),
        **_same("view add change reveal", PEOPLE_MODELS),
    },
    Role.GRID_WORKER: {
        "org.unit": grant("view"),
        "org.department": grant("view", DISTRICT),
        "core.calendarday": grant("view", DISTRICT),
        "registry.residenttag": grant("view", DISTRICT),
        **_same("view", REGISTRY_MODELS),
        **_same("view", PEOPLE_MODELS),
    },
    Role.DEPARTMENT_STAFF: {
        "org.unit": grant("view", DISTRICT),
        "org.department": grant("view", DISTRICT),
        "core.calendarday": grant("view", DISTRICT),
        **_same("view", REGISTRY_MODELS, DISTRICT),
    },
    Role.RESIDENT: {},
    Role.AUDITOR: {
        "org.unit": grant("view"),
        "org.department": grant("view"),
        "core.calendarday": grant("view", DISTRICT),
        "core.auditentry": grant("view"),
        "core.personaldataaccess": grant("view"),
        "registry.residenttag": grant("view"),
        **_same("view", REGISTRY_MODELS),
        **_same("view", PEOPLE_MODELS),
    },
}

# 一网统管 (cases). "cases.case" reaches cases by their place; "cases.case.assigned" by the unit they
# are dispatched to, which is how a department sees and handles its cases (X1) and how a committee or
# street handles what was sent to it. Actions beyond view: add (report), dispatch (register, reject,
# dispatch, merge: the street's 城运中心), handle (accept, return, feedback), verify, rate (record a phone
# follow-up), supervise (督办). "cases.summons" is the street's side of a 约请, ".received" the
# department's. Categories, the responsibility list and Open311 keys are district reference data.
CASE_REFERENCE = ("cases.category", "cases.responsibilityrule")
CASE_GRANTS: dict[str, dict[str, Grant]] = {
    Role.DISTRICT_ADMIN: {
        "cases.case": grant("view"),
        "cases.summons": grant("view"),
        "cases.open311client": grant("view add change"),
        **_same("view add change", CASE_REFERENCE),
    },
    Role.DISTRICT_OFFICE: {
        "cases.case": grant("view add dispatch verify rate supervise"),
        "cases.summons": grant("view"),
        **_same("view add change", CASE_REFERENCE),
    },
    Role.STREET_ADMIN: {
        "cases.case": grant("view add dispatch verify rate"),
        "cases.case.assigned": grant("view handle"),
        "cases.summons": grant("view add change"),
        **_same("view", CASE_REFERENCE, DISTRICT),
    },
    Role.STREET_STAFF: {
        "cases.case": grant("view add dispatch verify rate"),
        "cases.case.assigned": grant("view handle"),
        "cases.summons": grant("view add change"),
        **_same("view", CASE_REFERENCE, DISTRICT),
    },
    Role.COMMITTEE_STAFF: {
        "cases.case": grant("view add rate"),
        "cases.case.assigned": grant("view handle"),
        **_same("view", CASE_REFERENCE, DISTRICT),
    },
    Role.GRID_WORKER: {
        "cases.case": grant("view add verify"),
        **_same("view", CASE_REFERENCE, DISTRICT),
    },
    Role.DEPARTMENT_STAFF: {
        "cases.case.assigned": grant("view handle"),
        "cases.summons.received": grant("view answer change"),
        **_same("view", CASE_REFERENCE, DISTRICT),
    },
    Role.AUDITOR: {
        "cases.case": grant("view"),
        "cases.summons": grant("view"),
        **_same("view", CASE_REFERENCE),
    },
}
for _role, _grants in CASE_GRANTS.items():
    # Every staff role reads the in-platform notifications of its own units.
    GRANTS[_role].update(_grants, **{"cases.notification": grant("view")})

# Roles that hold at the district unit only; the others hold at a street, a residential area or a department.
DISTRICT_ROLES = (Role.DISTRICT_ADMIN, Role.DISTRICT_OFFICE, Role.AUDITOR)
STREET_ROLES = (Role.STREET_ADMIN, Role.STREET_STAFF)
STAFF_ROLES = tuple(role for role in Role if role != Role.RESIDENT)


def role_grant(role: str, label: str) -> Grant | None:
    return GRANTS.get(role, {}).get(label)


def role_allows(role: str, label: str, action: str) -> bool:
    found = role_grant(role, label)
    return bool(found and action in found.actions)
