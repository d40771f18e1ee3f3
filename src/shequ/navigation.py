"""Navigation by area, shown in the base layout: an entry appears when one of the user's roles may view
its records; an area appears when it has an entry."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (area, [(label, url name, model labels any of whose view grants shows the entry)]).
NAVIGATION = [
    (
        _("一网统管"),
        [
            (_("案件"), "case-list", ("cases.case", "cases.case.assigned")),
            (_("登记案件"), "case-add", ("cases.case",)),
            (_("约请"), "summons-list", ("cases.summons", "cases.summons.received")),
            (_("通知"), "notification-list", ("cases.notification",)),
            (_("数据看板"), "case-dashboard", ("cases.case", "cases.case.assigned")),
            (_("部门考评"), "case-assessment", ("cases.summons", "cases.summons.received")),
            (_("案件类别"), "category-list", ("cases.category",)),
            (_("职责清单"), "rule-list", ("cases.responsibilityrule",)),
        ],
    ),
    (
        _("基础要素"),
        [
            (_("单位树"), "unit-tree", ("org.unit",)),
            (_("小区"), "estate-list", ("registry.estate",)),
            (_("楼栋"), "building-list", ("registry.building",)),
            (_("楼组"), "buildinggroup-list", ("registry.buildinggroup",)),
            (_("网格"), "grid-list", ("registry.grid",)),
            (_("街区"), "block-list", ("registry.block",)),
            (_("职能部门"), "department-list", ("org.department",)),
        ],
    ),
    (
        _("居民"),
        [
            (_("居民"), "resident-list", ("registry.resident",)),
            (_("居民标签"), "residenttag-list", ("registry.residenttag",)),
            (_("个人信息查看记录"), "personaldataaccess-list", ("core.personaldataaccess",)),
        ],
    ),
    (
        _("系统"),
        [
            (_("节假日安排"), "calendarday-list", ("core.calendarday",)),
            (_("审计日志"), "audit-list", ("core.auditentry",)),
            (_("Open311 接入应用"), "open311client-list", ("cases.open311client",)),
        ],
    ),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_groups": []}
    groups = []
    for area, entries in NAVIGATION:
        items = [
            {"label": label, "url": reverse(name), "active": False}
            for label, name, labels in entries
            if any(
                user.can(model_label, "view") or (name == "case-add" and user.can(model_label, "add"))
                for model_label in labels
            )
        ]
        groups.append({"label": area, "items": items})
    # The entry whose address is the longest prefix of the page's is the current one (案件 /cases/ is not
    # current on 数据看板 /cases/dashboard/).
    matches = [item for group in groups for item in group["items"] if request.path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    shown = []
    for group in groups:
        items = group["items"]
        if items:
            shown.append(
                {"label": group["label"], "items": items, "active": any(item["active"] for item in items)}
            )
    return {"nav_groups": shown}
