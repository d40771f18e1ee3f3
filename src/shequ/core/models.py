from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoping import ScopedManager


class AuditAction(models.TextChoices):
    CREATE = "create", _("新建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    IMPORT = "import", _("导入")
    LOAD = "load", _("批量载入")


class AuditEntry(models.Model):
    """One row per write to a governance record (X3). Written by core.audit inside the write's
    transaction, never by signals, so imports, jobs and commands are covered as well as pages."""

    # The trail is written once and never cascades: PROTECT keeps users and record types from being
    # deleted through the ORM, without a database constraint. The constraint's check ran once per entry at
    # the commit, 200,000 lookups (about 1.7 s) for an import of 100,000 residents (docs/performance.md).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=AuditAction.choices)
    # No index of its own: the (content_type, object_id, created_at) index below starts with it.
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("记录类型"), on_delete=models.PROTECT, db_constraint=False, db_index=False
    )
    object_id = models.CharField(_("记录编号"), max_length=64)
    object_repr = models.CharField(_("记录名称"), max_length=200)
    # The unit path the record belonged to when written, so that the trail can be scoped like the record
    # (a prefix: `unit_path LIKE '/310106/310106006/%'`). One index, for prefixes and equality alike.
    unit_path = models.CharField(_("所属单位路径"), max_length=255, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    objects = ScopedManager()
    scope_path = "unit_path"

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-created_at"]),
            # Looked up by equality only (a plain index; db_index adds a LIKE-prefix one on PostgreSQL).
            models.Index(fields=["request_id"], name="audit_request_id"),
            # varchar_pattern_ops on PostgreSQL (for LIKE prefixes); a plain index elsewhere.
            models.Index(fields=["unit_path"], name="audit_unit_path", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"

    def changed_fields(self) -> list[tuple[str, object, object]]:
        before = self.before or {}
        after = self.after or {}
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return [(key, before.get(key), after.get(key)) for key in keys]


class PersonalDataAccess(models.Model):
    """One row per full view of a personal value (PIPL; X2): who saw which record's ID number or phone,
    why, and when. Exports that reveal values write one row naming how many records they covered."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    content_type = models.ForeignKey(ContentType, verbose_name=_("记录类型"), on_delete=models.PROTECT)
    object_id = models.CharField(_("记录编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("记录"), max_length=200)
    fields = models.CharField(_("查看的字段"), max_length=100)
    record_count = models.PositiveIntegerField(_("记录数"), default=1)
    reason = models.TextField(_("查看原因"))
    unit_path = models.CharField(_("所属单位路径"), max_length=255, db_index=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    objects = ScopedManager()
    scope_path = "unit_path"

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.object_repr} · {self.fields}"


def import_storage():
    """Uploaded import files live under DATA_DIR/imports, outside MEDIA_ROOT: they are never served."""
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=settings.DATA_DIR / "imports")


def import_upload_to(job: "ImportJob", filename: str) -> str:
    # The user's file name is kept in `original_name` only: on disk, a name the user cannot choose.
    import uuid

    from django.utils import timezone

    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}.xlsx"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("检查中")
    CHECKED = "checked", _("检查通过")
    INVALID = "invalid", _("有错误")
    IMPORTING = "importing", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportJob(models.Model):
    """One uploaded Excel file on its way into a register (X4): checked first, then written all or
    nothing when its owner confirms. The audit entries of the rows it wrote carry `audit_request_id`."""

    RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)

    register = models.CharField(_("登记簿"), max_length=40)
    file = models.FileField(_("文件"), upload_to=import_upload_to, storage=import_storage, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.CHECKING
    )
    rows_total = models.PositiveIntegerField(_("数据行数"), default=0)
    rows_checked = models.PositiveIntegerField(_("已检查行数"), default=0)
    rows_created = models.PositiveIntegerField(_("新增行数"), default=0)
    rows_updated = models.PositiveIntegerField(_("修改行数"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("未变行数"), default=0)
    rows_written = models.PositiveIntegerField(_("已写入行数"), default=0)
    error_count = models.PositiveIntegerField(_("问题数"), default=0)
    # The first problems (core.excel.MAX_ERRORS) as {"row", "column", "message"}; error_count has them all.
    errors = models.JSONField(_("问题"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    # Jobs are filed under the district (like accounts in the audit trail): their owner sees them through
    # extra_scope, readers of the audit trail see every job through the scope_label grant.
    unit_path = models.CharField(_("所属单位路径"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "unit_path"
    scope_label = "core.auditentry"

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.get_status_display()}）"

    @classmethod
    def extra_scope(cls, user, action: str):
        from django.db.models import Q

        return Q(user_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])

    def scope_path_value(self) -> str:
        return self.unit_path

    @property
    def audit_request_id(self) -> str:
        """The request id of every audit entry this job writes: the batch is one audit search away."""
        return f"import-{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("excel-job", args=[self.pk])


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("休息日")
    WORKDAY = "workday", _("工作日（调休上班）")


class CalendarDay(models.Model):
    """One day of the district's holiday table: a day off or a make-up working day (调休) as the State
    Council's yearly notice (国务院办公厅关于××××年部分节假日安排的通知) sets it. A row wins over the
    chinese-calendar package, so the district office can enter a year the package does not know yet, or
    correct one (core/workdays.py). Written only through core.workdays' services, which keep the
    calculation's cache in step."""

    date = models.DateField(
        _("日期"), unique=True, error_messages={"unique": _("这一天已在节假日表中，请编辑原记录。")}
    )
    kind = models.CharField(_("类型"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=40, help_text=_("如“2027年春节”"))
    note = models.CharField(_("依据或说明"), max_length=200, blank=True, help_text=_("如通知的文号"))
    # The whole district shares one calendar; the row is filed under the district unit, like the audit trail,
    # so that restrict() gives it to every role granted "core.calendarday" at district reach.
    unit_path = models.CharField(_("所属单位路径"), max_length=255, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()
    scope_path = "unit_path"

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}（{self.get_kind_display()}）"

    def scope_path_value(self) -> str:
        return self.unit_path

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return f"{reverse('calendarday-list')}?year={self.date.year}"
