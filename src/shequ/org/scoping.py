"""How roles become scope: a user's memberships and the grants of their roles give unit path prefixes.
core.scoping turns these into queries (`restrict`)."""

from __future__ import annotations

from .roles import DISTRICT, role_grant


def root_prefix(path: str) -> str:
    """'/310106/310106006/' -> '/310106/': the district a path belongs to."""
    return "/" + path.strip("/").split("/")[0] + "/"


def memberships_of(user) -> list:
    """Memberships with their units, loaded once per user object (one query per request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_shequ_memberships", None)
    if cached is None:
        cached = list(user.memberships.select_related("unit").filter(unit__is_active=True))
        user._shequ_memberships = cached
    return cached


def prefixes_for(user, label: str, action: str) -> list[str]:
    """The unit path prefixes under which `user` may take `action` on records of `label`."""
    prefixes = set()
    for membership in memberships_of(user):
        found = role_grant(membership.role, label)
        if not found or action not in found.actions:
            continue
        prefixes.add(root_prefix(membership.unit.path) if found.reach == DISTRICT else membership.unit.path)
    # Drop prefixes already covered by a shorter one.
    return sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))


def user_can(user, label: str, action: str) -> bool:
    """Whether the user may take the action on some record of this kind (lists, create buttons)."""
    return bool(prefixes_for(user, label, action))
