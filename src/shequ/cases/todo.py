"""一网统管's items of each role's to-do list (the home page): the work queues the role works
(cases.queues), the summons awaiting the user's department's answer, and the unit's unread notifications.
Each item costs one query: its count and its earliest time limit together, with the same filters as the
list it links to, so that the count is the length of that list."""

from __future__ import annotations

from django.db.models import Count, Min
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequ.core.scoping import user_may
from shequ.navigation import TodoItem
from shequ.org.scoping import memberships_of

from .choices import SummonsStatus
from .models import Notification, Summons
from .queues import queue_cases, user_queues

# Late work first, then what someone is waiting on, then the day's routine (T6.1's order of a case's life).
URGENCY = {
    "overdue": 10,
    "supervised": 20,
    "summons": 30,
    "to-register": 40,
    "to-dispatch": 50,
    "assigned": 60,
    "to-verify": 70,
    "notifications": 90,
}
HINTS = {
    "overdue": gettext_lazy("已超过本环节时限、尚未结案的案件"),
    "supervised": gettext_lazy("区地区办督办、尚未结案的案件"),
    "to-register": gettext_lazy("已受理，等待立案或不予立案"),
    "to-dispatch": gettext_lazy("已立案，等待派遣承办单位"),
    "assigned": gettext_lazy("派给本单位、等待签收或处置"),
    "to-verify": gettext_lazy("承办单位已反馈，等待核查"),
}


def todo_items(user) -> list[TodoItem]:
    items = []
    for queue in user_queues(user):
        figures = queue_cases(user, queue).order_by().aggregate(count=Count("pk"), due=Min("stage_deadline"))
        items.append(
            TodoItem(
                title=str(queue.title),
                count=figures["count"],
                url=queue.url,
                urgency=URGENCY.get(queue.name, 80),
                hint=str(HINTS.get(queue.name, "")),
                due=figures["due"],
                tone="danger" if queue.name == "overdue" and figures["count"] else "",
            )
        )
    if user_may(user, Summons, "answer"):
        figures = (
            Summons.objects.restrict(user, "answer")
            .filter(status=SummonsStatus.SENT)
            .aggregate(count=Count("pk"), due=Min("response_deadline"))
        )
        items.append(
            TodoItem(
                title=_("待答复约请"),
                count=figures["count"],
                url=f"{reverse('summons-list')}?status={SummonsStatus.SENT}",
                urgency=URGENCY["summons"],
                hint=_("街道约请本部门、尚未答复"),
                due=figures["due"],
            )
        )
    if user.can("cases.notification", "view"):
        items.append(
            TodoItem(
                title=_("未读通知"),
                count=unread_notifications(user),
                url=unread_notifications_url(),
                urgency=URGENCY["notifications"],
                hint=_("预警、超时、督办和约请的提醒"),
            )
        )
    return items


def user_notifications(user):
    """The notifications of the units where the user holds a role (the notification list's rows)."""
    units = [membership.unit_id for membership in memberships_of(user)]
    return Notification.objects.restrict(user, "view").filter(unit__in=units)


def unread_notifications(user) -> int:
    return user_notifications(user).filter(read_at__isnull=True).count()


def unread_notifications_url() -> str:
    return f"{reverse('notification-list')}?unread=true"
