"""Background jobs of core: the Excel import's check and commit (core.excel does the work), and the
nightly purge of old import files, which may hold personal data."""

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import excel
from .models import ImportJob

logger = logging.getLogger(__name__)


@db_task()
def check_import(job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        excel.check_job(job)


@db_task()
def commit_import(job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        excel.commit_job(job)


@db_periodic_task(crontab(hour="3", minute="20"))
def purge_import_files() -> None:
    """Uploaded files are kept for settings.IMPORT_FILE_DAYS (30 unless set) after their job ended; the
    audit trail keeps what was written, the job keeps its counts and problems."""
    days = int(getattr(settings, "IMPORT_FILE_DAYS", 30))
    cutoff = timezone.now() - datetime.timedelta(days=days)
    for job in (
        ImportJob.objects.filter(created_at__lt=cutoff).exclude(file="").exclude(status__in=ImportJob.RUNNING)
    ):
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
    logger.info("purged import files older than %s days", days)
