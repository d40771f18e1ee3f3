from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shequ.core.scoping import ScopedManager

from .choices import ALLOWED_PARENT_KINDS, STREET_KINDS, UnitKind
from .roles import DISTRICT_ROLES, STREET_ROLES, Role
from .scoping import memberships_of, prefixes_for, user_can

# Statistical division codes (统计用区划代码, National Bureau of Statistics): 6 digits a district,
# 9 a street or town, 12 a residential (or villagers') committee. Departments have no such code; theirs
# is the district code, "D" and a number.
CODE_LENGTH = {UnitKind.DISTRICT: 6, UnitKind.STREET: 9, UnitKind.TOWN: 9, UnitKind.NEIGHBORHOOD: 12}


class Unit(models.Model):
    """One node of the governance tree: the district, a street or town, a residential area, or a
    district department (beside the streets)."""

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of codes, '/310106/310106006/310106006002/': the scope of every query.
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedManager()
    scope_path = "path"

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def extra_scope(cls, user, action: str) -> Q:
        # Departments are read (and, for the district, managed) under their own grant.
        if user_can(user, "org.department", action):
            return Q(kind=UnitKind.DEPARTMENT)
        return Q(pk__in=[])

    def scope_path_value(self) -> str:
        return self.path

    def get_absolute_url(self) -> str:
        if self.kind == UnitKind.DEPARTMENT:
            return reverse("department-detail", args=[self.code])
        return reverse("unit-detail", args=[self.code])

    def ancestor_paths(self) -> list[str]:
        """'/a/b/c/' -> ['/a/', '/a/b/']: the paths of the units above this one."""
        codes = self.path.strip("/").split("/")[:-1]
        return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]

    @property
    def is_street(self) -> bool:
        return self.kind in STREET_KINDS

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def compute_path(self) -> str:
        return f"{self.parent.path if self.parent else '/'}{self.code}/"

    def clean(self):
        errors = {}
        allowed = ALLOWED_PARENT_KINDS.get(self.kind, ())
        if self.kind == UnitKind.DISTRICT:
            if self.parent_id:
                errors["parent"] = _("区是单位树的根，不能有上级单位。")
        elif not self.parent_id:
            errors["parent"] = _("请选择上级单位。")
        elif self.parent.kind not in allowed:
            errors["parent"] = _("“%(kind)s”的上级必须是%(allowed)s。") % {
                "kind": self.get_kind_display(),
                "allowed": "、".join(str(UnitKind(k).label) for k in allowed),
            }
        elif self.pk and self.parent.path.startswith(self.path):
            errors["parent"] = _("不能把单位移到它自己的下级单位之下。")
        expected = CODE_LENGTH.get(self.kind)
        if expected and (len(self.code) != expected or not self.code.isdigit()):
            errors["code"] = _("%(kind)s的统计用区划代码应为%(n)d位数字。") % {
                "kind": self.get_kind_display(),
                "n": expected,
            }
        elif expected and self.parent_id and not self.code.startswith(self.parent.code):
            errors["code"] = _("区划代码必须以上级单位的代码“%(code)s”开头。") % {"code": self.parent.code}
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        old_path = None
        if self.pk:
            old_path = Unit.objects.filter(pk=self.pk).values_list("path", flat=True).first()
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Moving a unit moves its subtree: rewrite the descendants' paths in one statement.
            Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr("path", len(old_path) + 1))
            )


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def person_label(self) -> str:
        """The user as colleagues know them, "单位 姓名" (江宁路街道 李敏), never the login name: in the menu bar
        and in every record's history. Reads `memberships` (prefetch `memberships__unit` for many users);
        without a name the role stands in for it."""
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("memberships")
        loaded = list(prefetched) if prefetched is not None else memberships_of(self)
        memberships = sorted(loaded, key=lambda membership: membership.pk)
        if not memberships:
            return self.display_name or str(_("未分配岗位的用户"))
        unit = memberships[0].unit.name
        name = self.display_name or memberships[0].get_role_display()
        # A name entered with its unit already ("江宁路街道 李科员") is not prefixed twice.
        return name if name.startswith(unit) else f"{unit} {name}"

    def can(self, label: str, action: str) -> bool:
        """Whether some membership lets this user take `action` on records of `label` somewhere."""
        return user_can(self, label, action)

    def scope_prefixes(self, label: str, action: str) -> list[str]:
        """The unit paths under which this user may take `action` on `label` (used by restrict)."""
        return prefixes_for(self, label, action)


# Where each role may be held: the unit kinds it belongs to.
ROLE_UNIT_KINDS = {
    **{role: (UnitKind.DISTRICT,) for role in DISTRICT_ROLES},
    **{role: STREET_KINDS for role in STREET_ROLES},
    Role.COMMITTEE_STAFF: (UnitKind.NEIGHBORHOOD,),
    Role.GRID_WORKER: (*STREET_KINDS, UnitKind.NEIGHBORHOOD),
    Role.DEPARTMENT_STAFF: (UnitKind.DEPARTMENT,),
    Role.RESIDENT: (UnitKind.NEIGHBORHOOD,),
}


class Membership(models.Model):
    """A role held at a unit. A user may hold several (a street's staff member who also audits, say)."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedManager()
    scope_path = "unit__path"

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [models.UniqueConstraint(fields=["user", "role", "unit"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"

    def scope_path_value(self) -> str:
        return self.unit.path

    def clean(self):
        kinds = ROLE_UNIT_KINDS.get(self.role, ())
        if self.unit_id and self.unit.kind not in kinds:
            raise ValidationError(
                {
                    "unit": _("“%(role)s”只能设在%(kinds)s。")
                    % {
                        "role": self.get_role_display(),
                        "kinds": "、".join(str(UnitKind(k).label) for k in kinds),
                    }
                }
            )
