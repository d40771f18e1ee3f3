from django.db import models
from django.utils.translation import gettext_lazy as _


class HousingType(models.TextChoices):
    """Housing types the plan distinguishes for fine-grained governance (T4.1)."""

    PUBLIC_SOLD = "public_sold", _("售后公房")
    COMMERCIAL = "commercial", _("普通商品房")
    FOREIGN_COMMERCIAL = "foreign_commercial", _("涉外商品房")
    GARDEN_HOUSE = "garden_house", _("老洋房")
    RESETTLEMENT = "resettlement", _("动迁安置房")
    LANE = "lane", _("里弄/旧里")
    OTHER = "other", _("其他")


class BlockMemberKind(models.TextChoices):
    SHOP = "shop", _("沿街商户")
    OFFICE = "office", _("商务楼宇")
    PARK = "park", _("产业园区")
    SCHOOL = "school", _("学校")
    HOSPITAL = "hospital", _("医院")
    INSTITUTION = "institution", _("机关事业单位")
    OTHER = "other", _("其他")


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    RESIDENT = "resident", _("常住人口（非户籍）")
    FLOATING = "floating", _("流动人口")


class ResidentStatus(models.TextChoices):
    LIVING = "living", _("在住")
    MOVED_OUT = "moved_out", _("迁出")
    DECEASED = "deceased", _("死亡")


class AgeBand(models.TextChoices):
    CHILD = "0-17", _("0–17岁")
    ADULT = "18-59", _("18–59岁")
    YOUNG_OLD = "60-79", _("60–79岁")
    OLDEST_OLD = "80-", _("80岁及以上")
