"""Every write to the registry (T4.1 base elements). Pages, the API, imports, commands and the demo
loader all call these; each validates, checks scope after the write and leaves one audit entry."""

from typing import Any

from django.db import transaction

from shequ.core.audit import create_record, update_record

from .models import Block, BlockMember, Building, BuildingGroup, Estate, Grid


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
