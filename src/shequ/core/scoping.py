"""`restrict(user, action)`: the one place where scoped access (X1) becomes a query.

Each scoped model names the field holding its owning unit's materialised path (`scope_path`: `unit__path`
for an estate, `path` for a unit). The user object answers `scope_prefixes(label, action)` with the unit
paths under which its roles allow the action (org.User does, from its memberships); the queryset keeps
the records under any of them. A model may add its own rule (`extra_scope`), e.g. grids covering a
committee's residential area. Core knows nothing of roles: it only asks the user."""

from django.db import models
from django.db.models import Q

NOTHING = Q(pk__in=[])


def grant_label(model: type[models.Model]) -> str:
    return getattr(model, "scope_label", model._meta.label_lower)


def user_may(user, model: type[models.Model], action: str, label: str | None = None) -> bool:
    """Whether some grant lets the user take `action` on records of this model somewhere: under its own
    label or under one of the model's `extra_labels` (e.g. cases dispatched to the user's unit)."""
    labels = [label or grant_label(model), *getattr(model, "extra_labels", ())]
    return any(user.can(name, action) for name in labels)


def scope_q(model: type[models.Model], user, action: str) -> Q:
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    query = NOTHING
    for prefix in user.scope_prefixes(grant_label(model), action):
        query |= Q(**{f"{model.scope_path}__startswith": prefix})
    extra = getattr(model, "extra_scope", None)
    if extra is not None:
        query |= extra(user, action)
    return query


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        return self.filter(scope_q(self.model, user, action))


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
