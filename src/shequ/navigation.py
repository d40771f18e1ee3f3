"""Navigation by area, shown in the base layout: an entry appears when the user may view its records."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# Navigation by area: (label, url name, model label whose view grant shows the entry).
NAVIGATION = [
    (_("单位树"), "unit-tree", "org.unit"),
    (_("小区"), "estate-list", "registry.estate"),
    (_("楼栋"), "building-list", "registry.building"),
    (_("楼组"), "buildinggroup-list", "registry.buildinggroup"),
    (_("网格"), "grid-list", "registry.grid"),
    (_("街区"), "block-list", "registry.block"),
    (_("职能部门"), "department-list", "org.department"),
    (_("审计日志"), "audit-list", "core.auditentry"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {"label": label, "url": reverse(name), "active": request.path.startswith(reverse(name))}
        for label, name, model_label in NAVIGATION
        if user.can(model_label, "view")
    ]
    return {"nav_items": items}
