from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    TOWN = "town", _("镇")
    NEIGHBORHOOD = "neighborhood", _("居民区")
    DEPARTMENT = "department", _("区职能部门")


STREET_KINDS = (UnitKind.STREET, UnitKind.TOWN)

# Which kind of unit may sit under which: the tree of DESIGN.md. Departments sit beside the streets.
ALLOWED_PARENT_KINDS = {
    UnitKind.DISTRICT: (),
    UnitKind.STREET: (UnitKind.DISTRICT,),
    UnitKind.TOWN: (UnitKind.DISTRICT,),
    UnitKind.NEIGHBORHOOD: STREET_KINDS,
    UnitKind.DEPARTMENT: (UnitKind.DISTRICT,),
}
