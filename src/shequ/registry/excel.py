"""Excel registers of the places (X4): estates, buildings, building groups and grids. Each row finds
its residential area (or street) by code or name, its estate by name within that area, its building by
楼号 within the estate; rows are matched to existing records by the same natural keys."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from shequ.core import bulk, excel
from shequ.core.personal_data import DocumentType
from shequ.org.excel import NEIGHBORHOODS, STREETS
from shequ.org.models import Unit

from . import services
from .filters import BuildingFilter, BuildingGroupFilter, EstateFilter, GridFilter, ResidentFilter
from .models import Building, BuildingGroup, Estate, Grid, Resident, ResidentTag

AREA_HELP = _("居民区的12位区划代码或名称；只能填您有权管理的居民区。")


@excel.register
class EstateRegister(excel.Register):
    name = "estates"
    model = Estate
    filterset_class = EstateFilter
    natural_key = ("unit", "name")
    scope_column = "unit"
    select_related = ("unit",)
    columns = [
        excel.Column("unit", _("居民区"), lookup=NEIGHBORHOODS, example="新安居委会", help=AREA_HELP),
        excel.Column("name", example="示例花园", help=_("同一居民区内小区名称不能重复。")),
        excel.Column("housing_type", example="commercial"),
        excel.Column("address", example="江宁路1弄"),
        excel.Column("built_year", example=2001, help=_("四位年份，1840–2100。")),
        excel.Column("households", example=300),
        excel.Column("floor_area", example="12000.50"),
    ]


@excel.register
class BuildingRegister(excel.Register):
    name = "buildings"
    model = Building
    filterset_class = BuildingFilter
    natural_key = ("estate", "number")
    scope_column = "area"
    select_related = ("estate__unit",)
    error_columns = {"unit": "area"}
    columns = [
        excel.Column(
            "area",
            _("居民区"),
            lookup=NEIGHBORHOODS,
            field=None,
            required=True,
            export="estate.unit",
            example="新安居委会",
            help=AREA_HELP,
        ),
        excel.Column(
            "estate_name",
            _("小区名称"),
            field=None,
            required=True,
            export="estate.name",
            example="示例花园",
            help=_("该居民区中已登记的小区。"),
        ),
        excel.Column("number", example="1号", help=_("同一小区内楼号不能重复。")),
        excel.Column("address", example="江宁路1弄1号"),
        excel.Column("floors", example=6),
        excel.Column("households", example=30),
        excel.Column("has_elevator", example=False),
    ]
    relations = [
        excel.Relation(
            "estate",
            Estate,
            {"unit": "area", "name": "estate_name"},
            column="estate_name",
            message=_("居民区“%(area)s”中没有小区“%(estate_name)s”。"),
        )
    ]


@excel.register
class BuildingGroupRegister(excel.Register):
    name = "building-groups"
    model = BuildingGroup
    filterset_class = BuildingGroupFilter
    natural_key = ("building", "name")
    scope_column = "area"
    select_related = ("building__estate__unit",)
    error_columns = {"unit": "area"}
    columns = [
        excel.Column(
            "area",
            _("居民区"),
            lookup=NEIGHBORHOODS,
            field=None,
            required=True,
            export="building.estate.unit",
            example="新安居委会",
            help=AREA_HELP,
        ),
        excel.Column(
            "estate_name",
            _("小区名称"),
            field=None,
            required=True,
            export="building.estate.name",
            example="示例花园",
        ),
        excel.Column(
            "building_number",
            _("楼号"),
            field=None,
            required=True,
            export="building.number",
            example="1号",
            help=_("该小区中已登记的楼号。"),
        ),
        excel.Column("name", example="1号1楼组", help=_("同一楼栋内楼组名称不能重复。")),
        excel.Column("households", example=12),
        excel.Column("leader_name", example="王阿姨"),
        excel.Column("note"),
    ]
    relations = [
        excel.Relation(
            "building",
            Building,
            {"estate__unit": "area", "estate__name": "estate_name", "number": "building_number"},
            column="building_number",
            message=_("居民区“%(area)s”的小区“%(estate_name)s”中没有楼号“%(building_number)s”。"),
        )
    ]


@excel.register
class GridRegister(excel.Register):
    name = "grids"
    model = Grid
    filterset_class = GridFilter
    natural_key = ("code",)
    scope_column = "unit"
    select_related = ("unit",)
    columns = [
        excel.Column("code", example="310106006G01", help=_("全区唯一；用于匹配已有网格。")),
        excel.Column("name", example="示例网格"),
        excel.Column("unit", _("所属街道/镇"), lookup=STREETS, example="江宁路街道"),
        excel.Column(
            "neighborhoods",
            lookup=NEIGHBORHOODS,
            many=True,
            example="新安居委会、联宝里居委会",
            help=_("网格覆盖的居民区，多个用顿号分隔。"),
        ),
        excel.Column("description"),
    ]


TAGS = excel.Lookup(
    _("居民标签"),
    lambda: ResidentTag.objects.filter(is_active=True).only("pk", "code", "name"),
    description=_("居民标签的名称或代码，如“党员”“独居老人”；多个用顿号“、”分隔"),
)
GROUP_COLUMNS = ("estate_name", "building_number", "group_name")
PERSONAL_COLUMNS = ("id_cipher", "id_index", "id_masked", "phone_cipher", "phone_index", "phone_masked")


@excel.register
class ResidentRegister(excel.Register):
    """居民. The ID number is the natural key, matched through its blind index (it is never in the
    database in clear). ID and phone numbers are written encrypted and exported masked, unless the user
    may reveal them and asks to, with a reason, which writes a PersonalDataAccess row. An exported file
    carries each resident's 居民编号, so that a file with masked numbers can be edited and re-imported:
    a masked number sent back as exported leaves the stored one as it is.

    Built for large files: related records come from lookups and one relation query per batch, existing
    residents from one blind-index query per batch, new residents and their tags and households are
    written in bulk; per-row validation runs without database queries (the batch checks cover them)."""

    name = "residents"
    model = Resident
    filterset_class = ResidentFilter
    natural_key = ("id_index",)
    scope_column = "unit"
    select_related = ("unit", "building_group__building__estate")
    export_option_names = ("reveal", "reason")
    error_columns = {
        "id_index": "id_number",
        "id_cipher": "id_number",
        "id_masked": "id_number",
        "phone_cipher": "phone",
        "phone_masked": "phone",
        "household": "group_name",
    }
    columns = [
        excel.Column(
            "record_id",
            _("居民编号"),
            field=None,
            kind=excel.INTEGER,
            export="pk",
            help=_("导出文件自带，用于匹配已有居民；新登记的居民留空。"),
        ),
        excel.Column("unit", _("居民区"), lookup=NEIGHBORHOODS, example="新安居委会", help=AREA_HELP),
        excel.Column("name", example="张三"),
        excel.Column("document_type", example="resident_id"),
        excel.Column(
            "id_number",
            _("证件号码"),
            field=None,
            required=True,
            sensitive=True,
            export="id_masked",
            reveal="id_cipher",
            example="310106195803129174",
            help=_("居民身份证按 GB 11643 校验（含校验码和出生日期）；全区唯一，用于匹配已登记的居民。"),
        ),
        excel.Column("gender", example="M", help=_("填写居民身份证号码时由号码得出，可不填。")),
        excel.Column("birth_date", example="1958-03-12", help=_("填写居民身份证号码时由号码得出，可不填。")),
        excel.Column(
            "phone",
            _("电话"),
            field=None,
            sensitive=True,
            export="phone_masked",
            reveal="phone_cipher",
            example="13800138000",
        ),
        excel.Column(
            "estate_name",
            _("小区名称"),
            field=None,
            export="building_group.building.estate.name",
            example="新安花园",
            help=_("小区、楼号、楼组三列同时填写或同时留空。"),
        ),
        excel.Column(
            "building_number", _("楼号"), field=None, export="building_group.building.number", example="1号"
        ),
        excel.Column("group_name", _("楼组"), field=None, export="building_group.name", example="1号1楼组"),
        excel.Column("room", example="101"),
        excel.Column("residence_type", example="registered"),
        excel.Column("separated", example=False),
        excel.Column("tags", lookup=TAGS, many=True, example="党员"),
        excel.Column("status", example="living"),
        excel.Column("moved_in_on", example="2001-05-01"),
        excel.Column("status_changed_on"),
        excel.Column("note"),
    ]
    relations = [
        excel.Relation(
            "building_group",
            BuildingGroup,
            {
                "building__estate__unit": "unit",
                "building__estate__name": "estate_name",
                "building__number": "building_number",
                "name": "group_name",
            },
            column="group_name",
            message=_(
                "居民区“%(unit)s”的小区“%(estate_name)s”%(building_number)s中没有楼组“%(group_name)s”。"
            ),
        )
    ]

    def base_queryset(self):
        return Resident.objects.all()

    # Import ---------------------------------------------------------------------------------------

    def prepare(self, rows, *, write):
        """Validate the ID and phone numbers of a batch, index them, and in a commit encrypt them; a masked
        number (an exported file sent back) is matched to its resident through the 居民编号."""
        masked_ids = {}
        for row in rows:
            given = [name for name in GROUP_COLUMNS if row.values.get(name, excel.EMPTY) is not excel.EMPTY]
            if given and len(given) != len(GROUP_COLUMNS):
                row.error("group_name", _("小区、楼号、楼组须同时填写或同时留空。"))
            document_type = row.fields.get("document_type") or DocumentType.RESIDENT_ID
            row.fields["document_type"] = document_type
            raw = row.values.get("id_number", excel.EMPTY)
            text = "" if raw is excel.EMPTY else excel.cell_text(raw)
            if "*" in text:
                record_id = row.values.get("record_id", excel.EMPTY)
                if record_id is excel.EMPTY:
                    row.error(
                        "id_number",
                        _("打码的证件号码只能用于更新已有居民：请保留“居民编号”列，或填写完整号码。"),
                    )
                else:
                    masked_ids[row.number] = (row, record_id, text)
            else:
                try:
                    row.fields.update(
                        services.personal_fields(document_type=document_type, id_number=text, encrypt=write)
                    )
                except ValidationError as error:
                    for message in error.message_dict.get("id_number", error.messages):
                        row.error("id_number", message)
            if "phone" in row.values:  # a phone column left empty clears the number, as for any column
                raw = row.values["phone"]
                phone = "" if raw is excel.EMPTY else excel.cell_text(raw)
                if "*" in phone:
                    row.masked_phone = phone
                else:
                    try:
                        row.fields.update(services.personal_fields(phone=phone, encrypt=write))
                    except ValidationError as error:
                        for message in error.message_dict.get("phone", error.messages):
                            row.error("phone", message)
        if masked_ids:
            records = {
                r.pk: r
                for r in Resident.objects.filter(
                    pk__in=[record_id for _row, record_id, _text in masked_ids.values()]
                ).only("pk", "id_index", "id_masked", "document_type")
            }
            for row, record_id, text in masked_ids.values():
                record = records.get(record_id)
                if record is None or record.id_masked != text:
                    row.error("id_number", _("居民编号与打码的证件号码不对应：请填写完整号码。"))
                else:
                    row.fields["id_index"] = record.id_index

    def find_existing(self, rows, *, lock):
        existing = super().find_existing(rows, lock=lock)
        for row in rows:
            record = existing.get(row.key)
            if record is None:
                if getattr(row, "masked_phone", None):
                    row.error("phone", _("请填写完整的值，不能用打码后的值。"))
                continue
            # Ciphertexts differ at every encryption (a random nonce): the same number is "unchanged" when its
            # blind index is the same, so that re-importing a file writes nothing.
            for name, index in (("id_cipher", "id_index"), ("phone_cipher", "phone_index")):
                if name in row.fields and row.fields.get(index) == getattr(record, index):
                    row.fields.pop(name)
            if getattr(row, "masked_phone", None) and row.masked_phone == record.phone_masked:
                pass  # the exported masked phone, sent back: unchanged
            elif getattr(row, "masked_phone", None):
                row.error("phone", _("请填写完整的值，不能用打码后的值。"))
        return existing

    def refused_change_message(self, existing):
        return _("该证件号码已登记在%(area)s，您无权修改：如已迁入本居民区，请原居民区先办理迁出。") % {
            "area": existing.unit.name
        }

    def validate(self, instance, row):
        # The batch checks stand for these per-row queries: related records came from lookups and the
        # relation query, the ID number's uniqueness from the blind-index query and the file's own keys.
        # The personal fields are personal_fields()'s output (ciphertext, HMAC, mask of a validated number):
        # nothing in them for clean_fields to find.
        instance.full_clean(
            exclude=["unit", "building_group", "household", *PERSONAL_COLUMNS, *self.vouched_fields(row)],
            validate_unique=False,
            validate_constraints=False,
        )

    def save_record(self, instance, *, row, actor, created):
        if created:
            row.pending = instance  # inserted in bulk by after_batch
        else:
            instance.save()

    def after_batch(self, written):
        new = [instance for _row, instance, before in written if before is None]
        changed = [instance for _row, instance, before in written if before is not None]
        # The new residents' keys first: their new households are created headed by them, their tags and
        # audit entries point at them. Then one insert each for households, residents and tags; changed
        # residents are few, saved one by one (save_record) and moved between households here.
        for resident, pk in zip(new, bulk.allocate_ids(Resident, len(new)), strict=True):
            resident.pk = pk
        services.place_in_households(new, save=False)
        bulk.insert(Resident, new)
        services.head_new_households(list({r.household_id for r in new if r.household_id}))
        services.place_in_households(changed)
        through = Resident.tags.through
        changed_pks = {resident.pk for resident in changed}
        retagged = [
            instance.pk
            for row, instance, _before in written
            if "tags" in row.m2m and instance.pk in changed_pks
        ]
        if retagged:
            through.objects.filter(resident_id__in_array=retagged).delete()
        links = [
            (instance.pk, tag.pk) for row, instance, _before in written for tag in row.m2m.get("tags", ())
        ]
        bulk.insert_rows(through, ["resident_id", "residenttag_id"], links)

    def landing_path(self, row):
        unit = row.values.get("unit")
        return unit.path if isinstance(unit, Unit) else None

    # Export ---------------------------------------------------------------------------------------

    def can_reveal(self, user, options):
        """Full numbers only for a role that may reveal residents' personal data, with a reason. Every
        role that may reveal does so over the same units it may view, so the export's rows are all
        revealable."""
        return (
            options.get("reveal") in ("1", "true", "on")
            and bool(options.get("reason", "").strip())
            and (user.can("registry.resident", "reveal"))
        )

    def before_export(self, *, user, options, queryset):
        if options.get("reveal") in ("1", "true", "on"):
            if not self.can_reveal(user, options):
                raise PermissionDenied(_("导出完整的证件号码和电话需要查看权限，并须填写原因。"))
            services.log_personal_data_access(
                actor=user,
                instance=Resident(),
                fields=["id_number", "phone"],
                reason=options["reason"].strip(),
                count=queryset.count(),
                unit_path=f"/{settings.DISTRICT_CODE}/",
            )
