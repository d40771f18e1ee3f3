"""Background jobs of 一网统管: the deadline sweep (warnings at 80%, overdue, supervision)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shequ.core.middleware import set_request_id

from . import services

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("cases-sweep")  # two consumers never sweep at once
def sweep_case_deadlines() -> None:
    set_request_id("sweep-deadlines")
    report = services.sweep_deadlines()
    if report.warned or report.overdue or report.supervised:
        logger.info("时限扫描：预警 %s，超时 %s，督办 %s", report.warned, report.overdue, report.supervised)
