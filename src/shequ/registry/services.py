"""Every write to the registry (T4.1 base elements). Pages, the API, imports, commands and the demo
loader all call these; each validates, checks scope after the write and leaves one audit entry."""

import datetime
from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from shequ.core import bulk, crypto
from shequ.core.audit import create_record, update_record
from shequ.core.middleware import current_request_id
from shequ.core.models import PersonalDataAccess
from shequ.core.personal_data import (
    DocumentType,
    identity_facts,
    mask_document,
    mask_phone,
    normalise_document,
    normalise_phone,
    validate_document,
    validate_phone,
)
from shequ.org.choices import UnitKind
from shequ.org.models import Unit

from .choices import ResidentStatus
from .models import (
    Block,
    BlockMember,
    Building,
    BuildingGroup,
    Estate,
    Grid,
    Household,
    Resident,
    ResidentTag,
)


def create_estate(*, actor, reason: str = "", **fields: Any) -> Estate:
    return create_record(actor=actor, model=Estate, fields=fields, reason=reason)


@transaction.atomic
def update_estate(
    *, actor, estate: Estate, changes: dict[str, Any], expected_version: int | None = None, reason: str = ""
) -> Estate:
    """Moving an estate to another residential area moves its buildings and building groups with it."""
    estate = update_record(
        actor=actor, instance=estate, changes=changes, expected_version=expected_version, reason=reason
    )
    Building.objects.filter(estate=estate).exclude(unit_id=estate.unit_id).update(unit_id=estate.unit_id)
    BuildingGroup.objects.filter(building__estate=estate).exclude(unit_id=estate.unit_id).update(
        unit_id=estate.unit_id
    )
    return estate


def create_building(*, actor, reason: str = "", **fields: Any) -> Building:
    return create_record(actor=actor, model=Building, fields=fields, reason=reason)


@transaction.atomic
def update_building(
    *,
    actor,
    building: Building,
    changes: dict[str, Any],
    expected_version: int | None = None,
    reason: str = "",
) -> Building:
    building = update_record(
        actor=actor, instance=building, changes=changes, expected_version=expected_version, reason=reason
    )
    BuildingGroup.objects.filter(building=building).exclude(unit_id=building.unit_id).update(
        unit_id=building.unit_id
    )
    return building


def create_building_group(*, actor, reason: str = "", **fields: Any) -> BuildingGroup:
    return create_record(actor=actor, model=BuildingGroup, fields=fields, reason=reason)


def update_building_group(
    *,
    actor,
    group: BuildingGroup,
    changes: dict[str, Any],
    expected_version: int | None = None,
    reason: str = "",
) -> BuildingGroup:
    return update_record(
        actor=actor, instance=group, changes=changes, expected_version=expected_version, reason=reason
    )


def create_grid(*, actor, neighborhoods=(), reason: str = "", **fields: Any) -> Grid:
    return create_record(
        actor=actor, model=Grid, fields=fields, m2m={"neighborhoods": neighborhoods}, reason=reason
    )


def update_grid(
    *,
    actor,
    grid: Grid,
    changes: dict[str, Any],
    neighborhoods=None,
    expected_version: int | None = None,
    reason: str = "",
) -> Grid:
    m2m = {"neighborhoods": neighborhoods} if neighborhoods is not None else None
    return update_record(
        actor=actor, instance=grid, changes=changes, m2m=m2m, expected_version=expected_version, reason=reason
    )


def create_block(*, actor, neighborhoods=(), reason: str = "", **fields: Any) -> Block:
    return create_record(
        actor=actor, model=Block, fields=fields, m2m={"neighborhoods": neighborhoods}, reason=reason
    )


def update_block(
    *,
    actor,
    block: Block,
    changes: dict[str, Any],
    neighborhoods=None,
    expected_version: int | None = None,
    reason: str = "",
) -> Block:
    m2m = {"neighborhoods": neighborhoods} if neighborhoods is not None else None
    return update_record(
        actor=actor,
        instance=block,
        changes=changes,
        m2m=m2m,
        expected_version=expected_version,
        reason=reason,
    )


def add_block_member(*, actor, block: Block, reason: str = "", **fields: Any) -> BlockMember:
    return create_record(actor=actor, model=BlockMember, fields={"block": block, **fields}, reason=reason)


# 居民 -------------------------------------------------------------------------------------------


def personal_fields(
    *,
    document_type: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    encrypt: bool = True,
) -> dict[str, Any]:
    """The stored form of personal values: ciphertext, blind index and masked text, plus what a
    resident ID number says (birth date and gender, GB 11643). Only the values given are returned;
    an empty string clears a value. Errors name the form field and never repeat the number. An import's
    check passes `encrypt=False`: it looks numbers up by their blind index and stores nothing, and the
    encryption would be a third of its time."""
    fields: dict[str, Any] = {}
    if id_number is not None:
        if id_number == "":
            fields.update(id_cipher="", id_index="", id_masked="")
        else:
            try:
                number = validate_document(document_type or DocumentType.RESIDENT_ID, id_number)
            except ValidationError as error:
                raise ValidationError({"id_number": error.messages}) from None
            fields.update(
                id_index=crypto.blind_index(number, document_type or DocumentType.RESIDENT_ID),
                id_masked=mask_document(number),
            )
            if encrypt:
                fields["id_cipher"] = crypto.encrypt(number)
            if (document_type or DocumentType.RESIDENT_ID) == DocumentType.RESIDENT_ID:
                facts = identity_facts(number)
                fields.update(birth_date=facts.birth_date, gender=facts.gender)
    if phone is not None:
        if phone == "":
            fields.update(phone_cipher="", phone_index="", phone_masked="")
        else:
            try:
                number = validate_phone(phone)
            except ValidationError as error:
                raise ValidationError({"phone": error.messages}) from None
            fields.update(phone_index=crypto.blind_index(number, "phone"), phone_masked=mask_phone(number))
            if encrypt:
                fields["phone_cipher"] = crypto.encrypt(number)
    return fields


def document_index_candidates(number: str) -> list[str]:
    """Blind-index values a typed document number could have, one per document type (for search)."""
    number = normalise_document(number)
    return [crypto.blind_index(number, document_type) for document_type in DocumentType.values]


def phone_index(phone: str) -> str:
    return crypto.blind_index(normalise_phone(phone), "phone")


def create_resident_tag(*, actor, reason: str = "", **fields: Any) -> ResidentTag:
    """Tags belong to the district: every street and committee reads the same list."""
    district = Unit.objects.get(kind=UnitKind.DISTRICT)
    return create_record(actor=actor, model=ResidentTag, fields={**fields, "unit": district}, reason=reason)


def update_resident_tag(
    *, actor, tag: ResidentTag, changes: dict[str, Any], expected_version: int | None = None, reason: str = ""
) -> ResidentTag:
    return update_record(
        actor=actor, instance=tag, changes=changes, expected_version=expected_version, reason=reason
    )


def check_document_free(id_index: str, resident_pk: int | None = None) -> None:
    """A document number is registered once in the district; say where it is when it is taken."""
    if not id_index:
        return
    other = Resident.objects.filter(id_index=id_index).exclude(pk=resident_pk).select_related("unit").first()
    if other is not None:
        raise ValidationError({"id_number": _("该证件号码已登记（%(area)s）。") % {"area": other.unit.name}})


@transaction.atomic
def create_resident(
    *,
    actor,
    id_number: str = "",
    phone: str = "",
    tags=(),
    is_head: bool = False,
    reason: str = "",
    **fields: Any,
) -> Resident:
    document_type = fields.get("document_type") or DocumentType.RESIDENT_ID
    fields = {**fields, **personal_fields(document_type=document_type, id_number=id_number, phone=phone)}
    check_document_free(fields.get("id_index", ""))
    resident = create_record(actor=actor, model=Resident, fields=fields, m2m={"tags": tags}, reason=reason)
    place_in_household(resident=resident, is_head=is_head)
    return resident


def place_in_household(*, resident: Resident, is_head: bool = False) -> None:
    """Residents at the same building group and room form one household (户); the head is marked on
    it. Part of the resident's own write, whose audit entry records the household."""
    place_in_households([resident])
    if is_head and resident.household_id:
        Household.objects.filter(pk=resident.household_id).update(head=resident)


def place_in_households(residents: list[Resident], *, save: bool = True) -> None:
    """The bulk form (imports): one query for the households that exist, one insert for the new ones,
    one update for the residents (none with save=False, for residents about to be inserted in bulk,
    their keys allocated: call `head_new_households` after inserting them). A new household is headed by
    its first resident."""
    pending = [r for r in residents if r.building_group_id]
    if not pending:
        return
    # Exactly the households of these (building group, room) pairs. Reading every household of the groups
    # made a big import's cost grow with the square of its rows.
    addresses = {(resident.building_group_id, resident.room) for resident in pending}
    if connection.vendor == "postgresql":
        # The pairs as two array parameters joined on the address index: one condition per room number,
        # OR-ed, took longer to build and compile than to run (2 s of a 100,000-row import).
        groups, rooms = zip(*addresses, strict=True)
        wanted = Q(
            pk__in=RawSQL(
                f"SELECT h.id FROM {Household._meta.db_table} h "
                "JOIN unnest(%s::bigint[], %s::text[]) AS a(group_id, room) "
                "ON h.building_group_id = a.group_id AND h.room = a.room",
                (list(groups), list(rooms)),
            )
        )
    else:
        # One condition per room number or per building group, whichever are fewer (a batch of an import
        # spans a street's groups but a few dozen room numbers).
        by_room: dict[str, set[int]] = defaultdict(set)
        by_group: dict[int, set[str]] = defaultdict(set)
        for group, room in addresses:
            by_room[room].add(group)
            by_group[group].add(room)
        wanted = Q(pk__in=[])
        if len(by_room) <= len(by_group):
            for room, groups in by_room.items():
                wanted |= Q(room=room, building_group_id__in_array=groups)
        else:
            for group, rooms in by_group.items():
                wanted |= Q(building_group_id=group, room__in_array=rooms)
    # (key, head) by address: values, not instances (an import finds thousands a batch).
    found = {
        (group, room): (pk, head)
        for pk, group, room, head in Household.objects.filter(wanted).values_list(
            "pk", "building_group_id", "room", "head_id"
        )
    }
    new = {}
    for resident in pending:
        key = (resident.building_group_id, resident.room)
        if key not in found and key not in new:
            new[key] = Household(
                building_group_id=key[0], room=key[1], unit_id=resident.unit_id, head_id=resident.pk
            )
    bulk.insert(Household, list(new.values()))
    found.update({key: (household.pk, household.head_id) for key, household in new.items()})
    moved = [r for r in pending if r.household_id != found[(r.building_group_id, r.room)][0]]
    for resident in moved:
        resident.household_id = found[(resident.building_group_id, resident.room)][0]
    if save:
        for resident in moved:
            Resident.objects.filter(pk=resident.pk).update(household_id=resident.household_id)
        head_new_households([pk for pk, head in found.values() if head is None])


def head_new_households(household_ids: list[int]) -> None:
    """Households without a head get their first resident as head: one statement for them all."""
    if household_ids:
        first = Resident.objects.filter(household=OuterRef("pk")).order_by("pk").values("pk")[:1]
        Household.objects.filter(pk__in_array=household_ids, head__isnull=True).update(head=Subquery(first))


def update_resident(
    *,
    actor,
    resident: Resident,
    changes: dict[str, Any],
    id_number: str | None = None,
    phone: str | None = None,
    tags=None,
    is_head: bool = False,
    expected_version: int | None = None,
    reason: str = "",
) -> Resident:
    """`id_number` / `phone` None leaves the stored value alone (forms show only masked values)."""
    document_type = changes.get("document_type", resident.document_type)
    if id_number is None and document_type != resident.document_type:
        raise ValidationError({"id_number": _("更改证件类型时请重新填写证件号码。")})
    changes = {**changes, **personal_fields(document_type=document_type, id_number=id_number, phone=phone)}
    check_document_free(changes.get("id_index", ""), resident.pk)
    m2m = {"tags": tags} if tags is not None else None
    with transaction.atomic():
        resident = update_record(
            actor=actor,
            instance=resident,
            changes=changes,
            m2m=m2m,
            expected_version=expected_version,
            reason=reason,
        )
        place_in_household(resident=resident, is_head=is_head)
    return resident


def end_residence(*, actor, resident: Resident, status: str, on: datetime.date, reason: str) -> Resident:
    """Moving out (迁出) or death: a status with its date. The record stays, with its history."""
    if status not in (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED):
        raise ValidationError({"status": _("请选择“迁出”或“死亡”。")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写原因。")})
    if on > datetime.date.today():
        raise ValidationError({"status_changed_on": _("日期不能晚于今天。")})
    return update_record(
        actor=actor, instance=resident, changes={"status": status, "status_changed_on": on}, reason=reason
    )


@transaction.atomic
def reveal_personal_data(*, actor, resident: Resident, fields: list[str], reason: str) -> dict[str, str]:
    """The full values of a resident's ID number and/or phone, for a user whose role may reveal them
    in the resident's unit, with a typed reason. Each call writes one PersonalDataAccess row."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("请填写查看原因。")})
    fields = [name for name in fields if name in Resident.PERSONAL_FIELDS]
    if not fields:
        raise ValidationError({"fields": _("请选择要查看的信息。")})
    if not Resident.objects.restrict(actor, "reveal").filter(pk=resident.pk).exists():
        raise PermissionDenied(_("您的岗位无权查看完整的个人信息。"))
    values = {}
    for name in fields:
        token = getattr(resident, Resident.PERSONAL_FIELDS[name])
        values[name] = crypto.decrypt(token) if token else ""
    log_personal_data_access(actor=actor, instance=resident, fields=fields, reason=reason)
    return values


def log_personal_data_access(
    *, actor, instance, fields, reason: str, count: int = 1, unit_path: str = ""
) -> None:
    labels = {"id_number": _("证件号码"), "phone": _("电话")}
    PersonalDataAccess.objects.create(
        user=actor,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=str(instance.pk or ""),
        object_repr=str(instance)[:200],
        fields="、".join(str(labels.get(name, name)) for name in fields),
        record_count=count,
        reason=reason,
        unit_path=unit_path or instance.scope_path_value(),
        request_id=current_request_id(),
    )
