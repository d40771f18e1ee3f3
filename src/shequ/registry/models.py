import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shequ.core.personal_data import DocumentType
from shequ.core.scoping import ScopedManager
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import BlockMemberKind, Gender, HousingType, ResidenceType, ResidentStatus


class RegistryRecord(models.Model):
    """What every registry record shares: the owning unit (the smallest that applies), an optimistic
    lock version, and timestamps."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="owned_%(class)ss"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()
    scope_path = "unit__path"

    class Meta:
        abstract = True

    def scope_path_value(self) -> str:
        return self.unit.path if self.unit_id else ""

    def derive(self) -> None:
        """Set fields that follow from others (a building's unit is its estate's) before validation."""

    def full_clean(self, *args, **kwargs):
        self.derive()
        super().full_clean(*args, **kwargs)


def _require_kind(unit: Unit | None, kinds, field: str, message) -> None:
    if unit is not None and unit.kind not in kinds:
        raise ValidationError({field: message})


class Estate(RegistryRecord):
    """小区: the estate, inside one residential area."""

    name = models.CharField(_("小区名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    housing_type = models.CharField(_("房屋类型"), max_length=24, choices=HousingType.choices)
    built_year = models.PositiveIntegerField(
        _("建成年份"), null=True, blank=True, validators=[MinValueValidator(1840), MaxValueValidator(2100)]
    )
    households = models.PositiveIntegerField(_("户数"), default=0)
    floor_area = models.DecimalField(
        _("建筑面积（平方米）"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        ordering = ["unit__path", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="estate_name_unique_in_area")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("estate-detail", args=[self.pk])

    def clean(self):
        _require_kind(
            self.unit if self.unit_id else None,
            (UnitKind.NEIGHBORHOOD,),
            "unit",
            _("小区必须属于一个居民区。"),
        )
        if (
            self.unit_id
            and self.name
            and Estate.objects.filter(unit_id=self.unit_id, name=self.name).exclude(pk=self.pk).exists()
        ):
            raise ValidationError({"name": _("该居民区已有同名小区“%(name)s”。") % {"name": self.name}})


class Building(RegistryRecord):
    """楼: a building of an estate. Its unit follows the estate's."""

    estate = models.ForeignKey(
        Estate, verbose_name=_("小区"), on_delete=models.PROTECT, related_name="buildings"
    )
    number = models.CharField(_("楼号"), max_length=40)
    address = models.CharField(_("门牌地址"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(
        _("层数"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    households = models.PositiveIntegerField(_("户数"), default=0)
    has_elevator = models.BooleanField(_("有电梯"), default=False)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["estate__name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "number"], name="building_number_unique_in_estate")
        ]

    def __str__(self) -> str:
        return f"{self.estate.name} {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("building-detail", args=[self.pk])

    def derive(self) -> None:
        if self.estate_id:
            self.unit_id = self.estate.unit_id

    def clean(self):
        if self.estate_id:
            if (
                Building.objects.filter(estate_id=self.estate_id, number=self.number)
                .exclude(pk=self.pk)
                .exists()
            ):
                raise ValidationError({"number": _("该小区已有楼号“%(number)s”。") % {"number": self.number}})


class BuildingGroup(RegistryRecord):
    """楼组: the self-governance unit, one or more stairwells of a building."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField(_("楼组名称"), max_length=60)
    households = models.PositiveIntegerField(_("户数"), default=0)
    leader_name = models.CharField(_("楼组长"), max_length=50, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("楼组")
        verbose_name_plural = _("楼组")
        ordering = ["building__estate__name", "building__number", "name"]
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="group_name_unique_in_building")
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("buildinggroup-detail", args=[self.pk])

    def derive(self) -> None:
        # A building group sits in a building of an estate of a residential area; its unit is that area.
        if self.building_id:
            self.unit_id = self.building.unit_id

    def clean(self):
        if not self.building_id:
            raise ValidationError({"building": _("楼组必须属于某个小区的一栋楼。")})
        if (
            BuildingGroup.objects.filter(building_id=self.building_id, name=self.name)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError({"name": _("该楼栋已有楼组“%(name)s”。") % {"name": self.name}})


def _covering(through, user, action: str, label: str, fk: str) -> Q:
    """Grids and blocks belong to a street but are seen by the residential areas they cover."""
    query = Q(pk__in=[])
    for prefix in user.scope_prefixes(label, action) if user.is_authenticated else ():
        if prefix.count("/") > 3:  # below street level: match through the covered areas
            query |= Q(pk__in=through.objects.filter(unit__path__startswith=prefix).values(fk))
    return query


class Grid(RegistryRecord):
    """网格: a management grid of a street, covering residential areas (and within them, estates)."""

    code = models.CharField(_("网格编码"), max_length=32, unique=True)
    name = models.CharField(_("网格名称"), max_length=100)
    neighborhoods = models.ManyToManyField(
        Unit,
        verbose_name=_("覆盖居民区"),
        related_name="grids",
        blank=True,
        limit_choices_to={"kind": UnitKind.NEIGHBORHOOD},
    )
    description = models.CharField(_("范围说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("grid-detail", args=[self.pk])

    @classmethod
    def extra_scope(cls, user, action: str) -> Q:
        return _covering(cls.neighborhoods.through, user, action, "registry.grid", "grid_id")

    def clean(self):
        _require_kind(
            self.unit if self.unit_id else None, STREET_KINDS, "unit", _("网格必须属于一个街道或镇。")
        )


class Block(RegistryRecord):
    """街区: residential areas and non-residential members (shops, office buildings, parks) of a street
    that govern together (和谐街区, T3.4)."""

    name = models.CharField(_("街区名称"), max_length=100)
    neighborhoods = models.ManyToManyField(
        Unit,
        verbose_name=_("包含居民区"),
        related_name="blocks",
        blank=True,
        limit_choices_to={"kind": UnitKind.NEIGHBORHOOD},
    )
    description = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("街区")
        verbose_name_plural = _("街区")
        ordering = ["unit__path", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="block_name_unique_in_street")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("block-detail", args=[self.pk])

    @classmethod
    def extra_scope(cls, user, action: str) -> Q:
        return _covering(cls.neighborhoods.through, user, action, "registry.block", "block_id")

    def clean(self):
        _require_kind(
            self.unit if self.unit_id else None, STREET_KINDS, "unit", _("街区必须属于一个街道或镇。")
        )
        if (
            self.unit_id
            and Block.objects.filter(unit_id=self.unit_id, name=self.name).exclude(pk=self.pk).exists()
        ):
            raise ValidationError({"name": _("该街道已有同名街区。")})


class BlockMember(models.Model):
    """A non-residential member of a block: a shop, an office building, an industrial park..."""

    block = models.ForeignKey(Block, verbose_name=_("街区"), on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=BlockMemberKind.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    objects = ScopedManager()
    scope_path = "block__unit__path"
    scope_label = "registry.block"  # members are part of their block: the block's grants apply

    class Meta:
        verbose_name = _("街区成员单位")
        verbose_name_plural = _("街区成员单位")
        ordering = ["block", "name"]

    def __str__(self) -> str:
        return self.name

    def scope_path_value(self) -> str:
        return self.block.unit.path


class ResidentTag(RegistryRecord):
    """A label on residents (党员, 独居老人, 高龄老人, 残疾人, 低保/低收入, 退役军人...). The district office
    keeps the list; tags belong to the district unit, so every street reads the same list."""

    code = models.SlugField(_("标签代码"), max_length=40, unique=True)
    name = models.CharField(_("标签名称"), max_length=40, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("居民标签")
        verbose_name_plural = _("居民标签")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("residenttag-list")


class Household(RegistryRecord):
    """户: the people registered at one address together, with its head."""

    building_group = models.ForeignKey(
        BuildingGroup,
        verbose_name=_("楼组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households_set",
        db_index=False,  # the household_address index starts with it
    )
    room = models.CharField(_("室号"), max_length=20, blank=True)
    head = models.ForeignKey(
        "Resident", verbose_name=_("户主"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        # A household is found by its address (services.place_in_households, for every resident written).
        indexes = [models.Index(fields=["building_group", "room"], name="household_address")]

    def __str__(self) -> str:
        place = f"{self.building_group} {self.room}".strip() if self.building_group_id else self.room
        return _("%(place)s户") % {"place": place or self.pk}

    def get_absolute_url(self) -> str:
        return reverse("household-detail", args=[self.pk])

    def derive(self) -> None:
        if self.building_group_id:
            self.unit_id = self.building_group.unit_id


class Resident(RegistryRecord):
    """居民. ID and phone numbers are never stored in clear (core.crypto): an AES-GCM ciphertext, an HMAC
    blind index for exact search and de-duplication, and the masked form shown everywhere. A resident
    is never deleted: moving out or death is a status with its date, and the audit trail keeps the rest."""

    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    document_type = models.CharField(
        _("证件类型"), max_length=24, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    id_cipher = models.TextField(_("证件号码（密文）"), blank=True, editable=False)
    id_index = models.CharField(_("证件号码索引"), max_length=64, blank=True, editable=False)
    id_masked = models.CharField(_("证件号码"), max_length=32, blank=True, editable=False)
    phone_cipher = models.TextField(_("电话（密文）"), blank=True, editable=False)
    phone_index = models.CharField(_("电话索引"), max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("电话"), max_length=24, blank=True, editable=False)
    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    building_group = models.ForeignKey(
        BuildingGroup,
        verbose_name=_("楼组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    room = models.CharField(_("室号"), max_length=20, blank=True)
    residence_type = models.CharField(
        _("人口类型"), max_length=16, choices=ResidenceType.choices, default=ResidenceType.REGISTERED
    )
    # 人户分离: registered in one place, living in another.
    separated = models.BooleanField(_("人户分离"), default=False)
    tags = models.ManyToManyField(ResidentTag, verbose_name=_("标签"), blank=True, related_name="residents")
    status = models.CharField(
        _("状态"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.LIVING
    )
    moved_in_on = models.DateField(_("入住日期"), null=True, blank=True)
    status_changed_on = models.DateField(_("迁出/死亡日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    audit_exclude = ("id_cipher", "id_index", "phone_cipher", "phone_index")
    PERSONAL_FIELDS = {"id_number": "id_cipher", "phone": "phone_cipher"}
    ciphertext_fields = tuple(PERSONAL_FIELDS.values())  # re-encrypted by `shequ keys rotate`

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["unit__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"],
                condition=~Q(id_index=""),
                name="resident_document_unique",
                violation_error_message=_("该证件号码已登记。"),
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status", "name"]),
            models.Index(fields=["birth_date"]),
            # Blind indexes are looked up by equality only: plain indexes, not db_index, which on
            # PostgreSQL adds a second, LIKE-prefix index that every insert would maintain for nothing.
            models.Index(fields=["id_index"], name="resident_id_index"),
            models.Index(fields=["phone_index"], name="resident_phone_index"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("resident-detail", args=[self.pk])

    def derive(self) -> None:
        if self.building_group_id:
            self.unit_id = self.building_group.unit_id

    def clean(self):
        # The document number's uniqueness is the constraint below, checked with the area named by the
        # services (one resident) and by the import (a whole batch at once, through the blind index).
        _require_kind(
            self.unit if self.unit_id else None,
            (UnitKind.NEIGHBORHOOD,),
            "unit",
            _("居民必须登记在一个居民区。"),
        )

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        today = datetime.date.today()
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )
