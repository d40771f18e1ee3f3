from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.scoping import ScopedManager
from shequ.org.models import Unit
from shequ.registry.choices import HousingType
from shequ.registry.models import BuildingGroup, Estate, Grid

from .choices import (
    OPEN_STAGES,
    Action,
    CategoryKind,
    LimitUnit,
    Rating,
    RatingChannel,
    Source,
    Stage,
    SummonsStatus,
    SupervisionStatus,
    Urgency,
)
from .district_map import district_map


class DistrictRecord(models.Model):
    """Reference data kept by the district office (categories, the responsibility list, Open311 client
    keys): owned by the district unit, so that restrict() gives every street the same list."""

    unit = models.ForeignKey(Unit, verbose_name=_("维护单位"), on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()
    scope_path = "unit__path"

    class Meta:
        abstract = True

    def scope_path_value(self) -> str:
        return self.unit.path


class Category(DistrictRecord):
    """Two levels: a big class (大类, no parent) and its small classes (小类). Codes are data, edited by
    the district office; GB/T 30428.2 gives the seed classes of 部件 and 事件."""

    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=16, choices=CategoryKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("大类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.CharField(_("说明"), max_length=300, blank=True)
    # Open311 attributes (GeoReport v2 service definition): a list of {code, description, datatype,
    # required, values}. Empty for most categories.
    attributes = models.JSONField(_("附加字段"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def get_absolute_url(self) -> str:
        return reverse("category-list")

    def clean(self):
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": _("类别只有两级：小类的上级必须是大类。")})
        if self.parent_id and not self.code.startswith(self.parent.code):
            raise ValidationError(
                {"code": _("小类编码必须以大类编码“%(code)s”开头。") % {"code": self.parent.code}}
            )


class ResponsibilityRule(DistrictRecord):
    """职责清单 (T2.1): which unit answers for a category of matter, where, and in what time.

    A rule applies to cases of its category whose place lies under `scope` (the district, or one
    street), optionally only for one housing type. The most specific matching rule wins: a housing type
    beats none, a street beats the district. The responsible unit is either fixed (a department) or
    follows the place: the place's street, or its residents' committee."""

    class Responsible(models.TextChoices):
        FIXED = "fixed", _("指定单位")
        PLACE_STREET = "place_street", _("所在街道/镇")
        PLACE_AREA = "place_area", _("所在居委会")

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="rules"
    )
    scope = models.ForeignKey(Unit, verbose_name=_("适用范围"), on_delete=models.PROTECT, related_name="+")
    housing_type = models.CharField(_("房屋类型"), max_length=24, choices=HousingType.choices, blank=True)
    responsible = models.CharField(
        _("责任主体"), max_length=16, choices=Responsible.choices, default=Responsible.PLACE_STREET
    )
    responsible_unit = models.ForeignKey(
        Unit, verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    register_hours = models.PositiveSmallIntegerField(_("立案时限（工作时）"), default=2)
    dispatch_hours = models.PositiveSmallIntegerField(_("派遣时限（工作时）"), default=2)
    handle_limit = models.PositiveSmallIntegerField(_("处置时限"), default=3)
    handle_unit = models.CharField(
        _("处置时限单位"), max_length=8, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )
    verify_hours = models.PositiveSmallIntegerField(_("核查时限（工作时）"), default=8)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("职责清单条目")
        verbose_name_plural = _("职责清单")
        ordering = ["category__code", "scope__path", "housing_type"]

    def __str__(self) -> str:
        return f"{self.category} · {self.scope}"

    def get_absolute_url(self) -> str:
        return reverse("rule-list")

    def clean(self):
        if self.responsible == self.Responsible.FIXED and not self.responsible_unit_id:
            raise ValidationError({"responsible_unit": _("责任主体为“指定单位”时请选择责任单位。")})
        if self.category_id and not self.category.parent_id:
            raise ValidationError({"category": _("职责清单按小类设置。")})


class Case(models.Model):
    """One reported problem, from intake to verified closure and the reporter's rating (T6.1)."""

    code = models.CharField(_("案件编号"), max_length=20, unique=True, editable=False)
    # The number another system gave the same matter (a 12345 hotline work order): imports match on it.
    external_code = models.CharField(_("外部工单号"), max_length=40, blank=True, db_index=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases"
    )
    description = models.TextField(_("问题描述"))
    urgency = models.CharField(_("紧急程度"), max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)
    # The place: `unit` is the residential area (or street) where it is, and scopes the case.
    unit = models.ForeignKey(
        Unit, verbose_name=_("所在居民区/街道"), on_delete=models.PROTECT, related_name="+"
    )
    estate = models.ForeignKey(
        Estate, verbose_name=_("小区"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    building_group = models.ForeignKey(
        BuildingGroup,
        verbose_name=_("楼组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("网格"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    # The reporter is personal data: stored like a resident's ID and phone (core.crypto).
    reporter_name_cipher = models.TextField(blank=True, editable=False)
    reporter_name_masked = models.CharField(_("反映人"), max_length=40, blank=True, editable=False)
    reporter_phone_cipher = models.TextField(blank=True, editable=False)
    reporter_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    reporter_phone_masked = models.CharField(_("反映人电话"), max_length=24, blank=True, editable=False)
    # Where the case is now and who holds it.
    stage = models.CharField(
        _("环节"), max_length=16, choices=Stage.choices, default=Stage.REPORTED, db_index=True
    )
    dispatcher = models.ForeignKey(
        Unit,
        verbose_name=_("派遣单位"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("受理、立案、派遣和核查的街道（城运中心）"),
    )
    assignee = models.ForeignKey(
        Unit,
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    rule = models.ForeignKey(
        ResponsibilityRule,
        verbose_name=_("适用职责清单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    # Time limits of the current stage, computed with the working-day calendar (core.workdays).
    stage_started_at = models.DateTimeField(_("本环节开始"), default=timezone.now)
    stage_deadline = models.DateTimeField(_("本环节时限"), null=True, blank=True, db_index=True)
    handle_deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    warned = models.BooleanField(_("已预警"), default=False)
    overdue = models.BooleanField(_("超时"), default=False, db_index=True)
    handled_late = models.BooleanField(_("处置超时"), default=False)
    reported_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    result = models.TextField(_("处置结果"), blank=True)
    rating = models.CharField(_("满意度"), max_length=12, choices=Rating.choices, blank=True)
    rating_channel = models.CharField(_("评价方式"), max_length=12, choices=RatingChannel.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重新处置次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    # A link the reporter can rate with, and an Open311 client's service_request_id source.
    public_token = models.CharField(max_length=40, unique=True, editable=False)
    open311_client = models.ForeignKey(
        "Open311Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    attributes = models.JSONField(_("附加信息"), default=dict, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "unit__path"
    extra_labels = ("cases.case.assigned",)
    audit_exclude = ("reporter_name_cipher", "reporter_phone_cipher", "reporter_phone_index", "public_token")
    ciphertext_fields = ("reporter_name_cipher", "reporter_phone_cipher")  # for `shequ keys rotate`

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "stage_deadline"]),
            models.Index(fields=["assignee", "stage"]),
            models.Index(fields=["dispatcher", "stage"]),
            models.Index(fields=["category", "reported_at"]),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("case-detail", args=[self.pk])

    def scope_path_value(self) -> str:
        return self.unit.path

    def clean(self):
        # A position is kept only in or near the district (cases.district_map): a phone far away, or a
        # made-up pair of numbers, would put a pin where no department can go.
        try:
            latitude, longitude = Decimal(str(self.latitude)), Decimal(str(self.longitude))
        except InvalidOperation:  # none given, or not numbers: the fields' own checks say so
            return
        if latitude.is_finite() and longitude.is_finite():
            if not district_map().near(latitude, longitude):
                raise ValidationError(
                    {"latitude": _("位置：所标的位置不在静安区内，请重新定位或在地图上点选。")}
                )

    @classmethod
    def extra_scope(cls, user, action: str) -> Q:
        """A department (or any unit) also sees the cases dispatched to it (X1: "departments see what
        was dispatched to them"), and a street the cases it dispatches."""
        query = Q(pk__in=[])
        if not user.is_authenticated:
            return query
        for prefix in user.scope_prefixes("cases.case.assigned", action):
            query |= Q(assignee__path__startswith=prefix)
        return query

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


def attachment_path(instance, filename: str) -> str:
    return f"cases/{instance.case_id}/{filename}"


class CaseEvent(models.Model):
    """The case's timeline: every transition and note, with who, when and what."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=16, choices=Action.choices)
    stage_from = models.CharField(_("原环节"), max_length=16, choices=Stage.choices, blank=True)
    stage_to = models.CharField(_("新环节"), max_length=16, choices=Stage.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("派遣、退单、改派时为承办单位"),
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("案件流转记录")
        verbose_name_plural = _("案件流转记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["action", "unit", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case} {self.get_action_display()}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to=attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name


class Supervision(models.Model):
    """督办: opened on a case overdue past the grace period (or by the district office), with its own
    deadline, visible to the district office."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    reason = models.CharField(_("督办原因"), max_length=300)
    opened_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    deadline = models.DateTimeField(_("督办时限"))
    status = models.CharField(
        _("状态"),
        max_length=8,
        choices=SupervisionStatus.choices,
        default=SupervisionStatus.OPEN,
        db_index=True,
    )
    closed_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "case__unit__path"
    scope_label = "cases.case"

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.case} {self.get_status_display()}"


class Summons(models.Model):
    """约请 (T2.2): a street calls a department on one case or on a matter with several. The department
    must answer by the deadline (working days); the street records the outcome and rates the response."""

    code = models.CharField(_("约请编号"), max_length=20, unique=True, editable=False)
    street = models.ForeignKey(
        Unit, verbose_name=_("约请街道"), on_delete=models.PROTECT, related_name="summonses_sent"
    )
    department = models.ForeignKey(
        Unit, verbose_name=_("被约请部门"), on_delete=models.PROTECT, related_name="summonses_received"
    )
    cases = models.ManyToManyField(Case, verbose_name=_("涉及案件"), blank=True, related_name="summonses")
    reason = models.CharField(_("约请事由"), max_length=300)
    request = models.TextField(_("约请事项"))
    response_days = models.PositiveSmallIntegerField(_("答复时限（工作日）"), default=3)
    response_deadline = models.DateTimeField(_("答复截止"))
    meeting_at = models.DateTimeField(_("会商时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=SummonsStatus.choices, default=SummonsStatus.SENT, db_index=True
    )
    answer = models.TextField(_("部门答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("按时答复"), null=True, blank=True)
    outcome = models.TextField(_("办理结果"), blank=True)
    rating_timeliness = models.PositiveSmallIntegerField(_("及时性评分"), null=True, blank=True)
    rating_result = models.PositiveSmallIntegerField(_("结果评分"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("发出时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedManager()
    scope_path = "street__path"
    extra_labels = ("cases.summons.received",)

    class Meta:
        verbose_name = _("约请")
        verbose_name_plural = _("约请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("summons-detail", args=[self.pk])

    def scope_path_value(self) -> str:
        return self.street.path

    @classmethod
    def extra_scope(cls, user, action: str) -> Q:
        """The summoned department sees (and answers) what it was summoned on."""
        query = Q(pk__in=[])
        if not user.is_authenticated:
            return query
        for prefix in user.scope_prefixes("cases.summons.received", action):
            query |= Q(department__path__startswith=prefix)
        return query


class Notification(models.Model):
    """An in-platform message to a unit (a case about to be overdue, overdue, under supervision, a summons)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    summons = models.ForeignKey(Summons, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(_("消息"), max_length=300)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "unit__path"

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [
            # The menu bar's unread count, on every page: a department gathers thousands of read
            # notifications a year, which the count would otherwise read and discard (3.5 ms for 区房管局
            # in the 300,000-case benchmark, against 0.1 ms with this index).
            models.Index(
                fields=["unit"], condition=Q(read_at__isnull=True), name="notification_unread_by_unit"
            ),
        ]

    def __str__(self) -> str:
        return self.message


class Open311Client(DistrictRecord):
    """An outside reporting app allowed to POST requests (Open311 GeoReport v2 `api_key`). The key is
    shown once and stored as a hash."""

    name = models.CharField(_("应用名称"), max_length=100)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    key_prefix = models.CharField(_("密钥前缀"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("Open311 接入应用")
        verbose_name_plural = _("Open311 接入应用")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("open311client-list")


class CaseSequence(models.Model):
    """The last number given per year, for case codes JA2026-0001234 (locked row, no gaps from races)."""

    prefix = models.CharField(max_length=12, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}{self.last}"
