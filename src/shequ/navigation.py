"""What the base layout shows around every page, and each role's to-do list on the home page.

Navigation by area: an entry appears when the user may open the page it leads to. For a page built on
core's scoped views the page itself is asked (the same `can(grant)` its dispatch checks, so the menu
cannot offer a page that answers 403); other pages name the grant labels that open them. An area appears
when it has an entry. An anonymous visitor sees the public entries only.

The to-do list: each app that gives people work declares `todo.py` with `todo_items(user)`, returning
TodoItem; TODO_SOURCES lists them, and `todo_items` here collects and orders them, most urgent first."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from importlib import import_module

from django.urls import NoReverseMatch, resolve, reverse
from django.utils.translation import gettext_lazy as _

# (area, [(label, url name, grant labels any of whose view grant opens a page that is not a scoped view)]).
NAVIGATION = [
    (
        _("一网统管"),
        [
            (_("案件"), "case-list", ()),
            (_("登记案件"), "case-add", ()),
            (_("约请"), "summons-list", ()),
            (_("通知"), "notification-list", ()),
            (_("数据看板"), "case-dashboard", ()),
            (_("部门考评"), "case-assessment", ()),
            (_("案件类别"), "category-list", ()),
            (_("职责清单"), "rule-list", ()),
        ],
    ),
    (
        _("基础要素"),
        [
            (_("单位树"), "unit-tree", ("org.unit",)),
            (_("小区"), "estate-list", ()),
            (_("楼栋"), "building-list", ()),
            (_("楼组"), "buildinggroup-list", ()),
            (_("网格"), "grid-list", ()),
            (_("街区"), "block-list", ()),
            (_("职能部门"), "department-list", ()),
        ],
    ),
    (
        _("居民"),
        [
            (_("居民"), "resident-list", ()),
            (_("居民标签"), "residenttag-list", ()),
            (_("个人信息查看记录"), "personaldataaccess-list", ()),
        ],
    ),
    (
        _("系统"),
        [
            (_("节假日安排"), "calendarday-list", ()),
            (_("审计日志"), "audit-list", ()),
            (_("Open311 接入应用"), "open311client-list", ()),
        ],
    ),
]

# Pages for residents without an account, shown to anonymous visitors when the URL exists.
PUBLIC_NAVIGATION = [
    (_("反映问题"), "public-report"),
]

# What a role starts most often, as buttons on its home page (shown when the role may open the page).
SHORTCUTS = [
    (_("登记案件"), "case-add"),
    (_("新增居民"), "resident-add"),
]

# The apps whose `todo.py` gives each role its to-do items (later apps add theirs here).
TODO_SOURCES = ("shequ.cases.todo",)


@functools.cache
def _view_class(url_name: str):
    return getattr(resolve(reverse(url_name)).func, "view_class", None)


def may_open(request, url_name: str, labels: tuple[str, ...] = ()) -> bool:
    """Whether the user's roles open the page at `url_name` (a page without URL arguments)."""
    view_class = _view_class(url_name)
    if (
        view_class is not None
        and getattr(view_class, "model", None) is not None
        and hasattr(view_class, "can")
    ):
        view = view_class()
        view.setup(request)
        return view.can(view.grant)
    return any(request.user.can(label, "view") for label in labels)


def _public_entries() -> list[dict]:
    entries = []
    for label, name in PUBLIC_NAVIGATION:
        try:
            entries.append({"label": label, "url": reverse(name), "active": False})
        except NoReverseMatch:  # the page is not built (yet)
            continue
    return entries


class _Once:
    """A value the template asks for at most once (a count for the menu bar), computed only when a page
    shows it: an htmx fragment without the menu bar costs no query."""

    def __init__(self, compute):
        self.compute = compute

    @functools.cached_property
    def value(self):
        return self.compute()

    def __call__(self):
        return self.value


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_groups": [], "public_nav": _public_entries()}
    groups = []
    for area, entries in NAVIGATION:
        items = [
            {"label": label, "url": reverse(name), "active": False}
            for label, name, labels in entries
            if may_open(request, name, labels)
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
    context = {"nav_groups": shown}
    if may_open(request, "notification-list"):
        from shequ.cases.todo import unread_notifications, unread_notifications_url

        context["unread_notifications"] = _Once(lambda: unread_notifications(user))
        context["unread_notifications_url"] = unread_notifications_url()
    return context


def shortcuts(request) -> list[dict]:
    return [{"label": label, "url": reverse(name)} for label, name in SHORTCUTS if may_open(request, name)]


# The to-do list -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodoItem:
    """One kind of work waiting for the user: how many, where the list is, and how pressing."""

    title: str
    count: int
    url: str
    # Lower comes first among items with work waiting: overdue before new, new before routine.
    urgency: int
    hint: str = ""
    # The earliest time limit among the items, when they have one.
    due: datetime.datetime | None = None
    # "danger" for work already late.
    tone: str = ""


def todo_items(user) -> list[TodoItem]:
    """Every app's to-do items for the user: those with work waiting first, most urgent first."""
    items: list[TodoItem] = []
    for source in TODO_SOURCES:
        items.extend(import_module(source).todo_items(user))
    return sorted(items, key=lambda item: (item.count == 0, item.urgency))
