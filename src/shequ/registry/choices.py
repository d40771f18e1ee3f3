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
