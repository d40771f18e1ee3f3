"""The work queues of 一网统管 (待立案, 待派遣, 派给本单位, ...): one definition, read by the queue pages and by
each role's home page (its to-do list), so that a count on the home page is the length of the list it
links to."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Case as Case_
from django.db.models import Exists, F, OuterRef, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from shequ.core.scoping import user_may

from . import services
from .choices import OPEN_STAGES, Stage
from .models import Case, Supervision


@dataclass(frozen=True)
class Queue:
    name: str
    title: str
    action: str  # the grant the user must hold on cases to work this queue
    filter: dict

    @property
    def url(self) -> str:
        return reverse("case-queue", args=[self.name])


QUEUES: dict[str, Queue] = {
    queue.name: queue
    for queue in (
        Queue("to-register", gettext_lazy("待立案"), "dispatch", {"stage": Stage.REPORTED}),
        Queue("to-dispatch", gettext_lazy("待派遣"), "dispatch", {"stage": Stage.REGISTERED}),
        Queue(
            "assigned",
            gettext_lazy("派给本单位"),
            "handle",
            {"stage__in": [Stage.DISPATCHED, Stage.HANDLING]},
        ),
        Queue("to-verify", gettext_lazy("待核查"), "verify", {"stage": Stage.HANDLED}),
        Queue("overdue", gettext_lazy("已超时"), "view", {"stage__in": OPEN_STAGES, "overdue": True}),
        Queue("supervised", gettext_lazy("督办中"), "view", {"stage__in": OPEN_STAGES}),
    )
}


def user_queues(user) -> list[Queue]:
    """The queues the user works, in the order of the case's life."""
    return [queue for queue in QUEUES.values() if user_may(user, Case, queue.action)]


# How long after its deadline a late case still counts as late *now* rather than as old backlog.
RECENT = datetime.timedelta(days=7)


def queue_order(now: datetime.datetime) -> list:
    """What needs doing now first. Ordering by the deadline alone puts a department's year-old overdue
    cases (29 of them in the demo) before the three it was sent this morning, which then sit on the last
    page unseen. So a queue reads in two parts:

    1. cases whose deadline is ahead or passed within the last week (RECENT), earliest deadline first:
       yesterday's late case (supervision follows after a day's grace), then the one due in two hours,
       then this morning's new ones (due in days);
    2. the backlog, late by more than a week, most recently late first, so the oldest sink to the end.

    A case without a deadline comes last in the first part."""
    stale = Case_(When(stage_deadline__lt=now - RECENT, then=Value(1)), default=Value(0))
    first_part_deadline = Case_(When(stage_deadline__gte=now - RECENT, then=F("stage_deadline")))
    return [
        stale.asc(),
        first_part_deadline.asc(nulls_last=True),
        F("stage_deadline").desc(nulls_last=True),
        "-id",
    ]


def queue_cases(user, queue: Queue, now: datetime.datetime | None = None) -> QuerySet:
    """The cases of one queue the user may see, what needs doing now first (queue_order)."""
    cases = Case.objects.restrict(user, queue.action).filter(**queue.filter)
    if queue.name == "supervised":
        cases = cases.filter(Exists(Supervision.objects.filter(case=OuterRef("pk"), status="open")))
    if queue.name == "assigned":
        # Only what was sent to the user's own units, not everything the user may handle elsewhere.
        cases = cases.filter(services.assigned_to_user_q(user))
    return cases.order_by(*queue_order(now or timezone.now()))
