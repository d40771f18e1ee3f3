from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shequ.core.scoping import ScopedManager
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import BlockMemberKind, HousingType


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
