"""The demo district: Jing'an's real streets and residents' committees (from the statistical division
codes), ~20 real district department names, the demo accounts, and synthetic estates, buildings,
building groups, grids and blocks drawn from a fixed seed.

Loading is idempotent: units and accounts are matched by code and username, and a residential area
that already has estates gets no new synthetic ones. Each model's bulk load leaves one audit entry
(action "load") that lists how many records it wrote."""

from __future__ import annotations

import csv
import datetime
import random
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from stdnum.cn import ric

from shequ.cases.seed import load_categories, load_rules
from shequ.core import crypto
from shequ.core.audit import record_bulk_load
from shequ.core.personal_data import mask_document, mask_phone
from shequ.core.progress import Progress
from shequ.org.choices import UnitKind
from shequ.org.models import Membership, Unit, User
from shequ.org.roles import Role
from shequ.registry.choices import BlockMemberKind, HousingType
from shequ.registry.models import (
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

from .cases import CASE_COUNTS, load_demo_cases
from .names import ROAD_NAMES, person

DIVISIONS_CSV = Path(__file__).parent / "data" / "jingan-divisions.csv"
DEMO_PASSWORD = "shequ-demo-2025"
SEED = 20210601  # the plan's year; any fixed number gives the same district every time

DEPARTMENTS = [
    "区房管局",
    "区城管执法局",
    "区绿化市容局",
    "区建设管理委",
    "区民政局",
    "区卫生健康委",
    "区市场监管局",
    "区生态环境局",
    "区应急管理局",
    "区司法局",
    "公安静安分局",
    "区规划资源局",
    "区城市综合运行管理中心",
    "区教育局",
    "区文化旅游局",
    "区人力资源社会保障局",
    "区退役军人事务局",
    "区商务委",
    "区消防救援支队",
    "区体育局",
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    unit_code: str  # a statistical code, or a department's name


DEMO_ACCOUNTS = [
    DemoAccount("admin", "区系统管理员", Role.DISTRICT_ADMIN, "310106"),
    DemoAccount("district", "区地区办 王主任", Role.DISTRICT_OFFICE, "310106"),
    DemoAccount("jiangning", "江宁路街道 李科员", Role.STREET_STAFF, "310106006"),
    DemoAccount("jiangning_admin", "江宁路街道 管理员", Role.STREET_ADMIN, "310106006"),
    DemoAccount("shimen", "石门二路街道 张科员", Role.STREET_STAFF, "310106011"),
    DemoAccount("xinan", "新安居委会 陈社工", Role.COMMITTEE_STAFF, "310106006002"),
    DemoAccount("wangge", "江宁路街道 网格员 孙师傅", Role.GRID_WORKER, "310106006"),
    DemoAccount("fangguan", "区房管局 赵科员", Role.DEPARTMENT_STAFF, "区房管局"),
    DemoAccount("auditor", "审计员", Role.AUDITOR, "310106"),
]


@dataclass(frozen=True)
class Scale:
    estates_per_area: tuple[int, int]
    buildings_per_estate: tuple[int, int]
    groups_per_building: tuple[int, int]
    residents_per_group: tuple[int, int]


SCALES = {
    # A quick first start: every real residential area, a few estates each (~800 estates, ~5,000 residents).
    "demo": Scale((2, 4), (2, 6), (1, 3), (0, 2)),
    # Jing'an's size (DESIGN.md, Scale): ~1,600 estates, ~20,000 building groups, ~1,000,000 residents.
    "district": Scale((5, 7), (3, 6), (2, 4), (40, 60)),
}

DEFAULT_TAGS = [
    ("party_member", "党员"),
    ("living_alone", "独居老人"),
    ("oldest_old", "高龄老人"),
    ("disabled", "残疾人"),
    ("low_income", "低保/低收入"),
    ("veteran", "退役军人"),
    ("priority_care", "重点优抚对象"),
    ("volunteer", "志愿者"),
]
# Central Shanghai's age structure: about a third of residents over 60 (Shanghai's 2020 census gives
# 23% for the city; the old central districts are markedly older).
AGE_BANDS = [((0, 17), 11), ((18, 59), 55), ((60, 79), 26), ((80, 99), 8)]

# South Jing'an (the old city centre) is lanes and garden houses; the north is 1980s-90s public
# housing, commercial estates and resettlement housing. The weights give each street its mix.
SOUTH_STREETS = {"310106006", "310106011", "310106012", "310106013", "310106014"}
HOUSING_WEIGHTS = {
    "south": {
        HousingType.LANE: 30,
        HousingType.PUBLIC_SOLD: 25,
        HousingType.COMMERCIAL: 20,
        HousingType.GARDEN_HOUSE: 10,
        HousingType.FOREIGN_COMMERCIAL: 8,
        HousingType.RESETTLEMENT: 2,
        HousingType.OTHER: 5,
    },
    "north": {
        HousingType.PUBLIC_SOLD: 40,
        HousingType.COMMERCIAL: 30,
        HousingType.RESETTLEMENT: 15,
        HousingType.LANE: 5,
        HousingType.FOREIGN_COMMERCIAL: 3,
        HousingType.GARDEN_HOUSE: 1,
        HousingType.OTHER: 6,
    },
}
NAME_SUFFIXES = {
    HousingType.LANE: ["里", "坊", "邨"],
    HousingType.GARDEN_HOUSE: ["别墅", "公寓"],
    HousingType.PUBLIC_SOLD: ["新村", "小区", "大楼"],
    HousingType.COMMERCIAL: ["花园", "苑", "大厦", "名邸"],
    HousingType.FOREIGN_COMMERCIAL: ["公馆", "国际公寓"],
    HousingType.RESETTLEMENT: ["家园", "新苑"],
    HousingType.OTHER: ["综合楼", "宿舍"],
}
BUILT_YEARS = {
    HousingType.LANE: (1910, 1949),
    HousingType.GARDEN_HOUSE: (1900, 1948),
    HousingType.PUBLIC_SOLD: (1958, 1998),
    HousingType.COMMERCIAL: (1995, 2018),
    HousingType.FOREIGN_COMMERCIAL: (1996, 2012),
    HousingType.RESETTLEMENT: (1998, 2015),
    HousingType.OTHER: (1960, 2005),
}
FLOORS = {
    HousingType.LANE: (2, 3),
    HousingType.GARDEN_HOUSE: (2, 4),
    HousingType.PUBLIC_SOLD: (5, 7),
    HousingType.COMMERCIAL: (6, 32),
    HousingType.FOREIGN_COMMERCIAL: (12, 40),
    HousingType.RESETTLEMENT: (6, 18),
    HousingType.OTHER: (3, 8),
}
NAME_STEMS = list("和平安康福寿兴华光明锦绣春晖永乐长宁延安新华昌平嘉禾瑞金祥和益民同心丰盛德")
BLOCK_MEMBERS = [
    (BlockMemberKind.SHOP, ["便利店", "早餐店", "药房", "水果店", "理发店"]),
    (BlockMemberKind.OFFICE, ["商务楼", "大厦", "中心"]),
    (BlockMemberKind.PARK, ["创意园", "产业园"]),
    (BlockMemberKind.SCHOOL, ["小学", "幼儿园"]),
    (BlockMemberKind.HOSPITAL, ["社区卫生服务中心"]),
]


@dataclass
class LoadReport:
    units: int = 0
    departments: int = 0
    users: int = 0
    estates: int = 0
    buildings: int = 0
    groups: int = 0
    grids: int = 0
    blocks: int = 0
    residents: int = 0
    cases: list = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"单位 {self.units}，职能部门 {self.departments}，账号 {self.users}",
            f"小区 {self.estates}，楼栋 {self.buildings}，楼组 {self.groups}，网格 {self.grids}，街区 {self.blocks}",
            f"居民 {self.residents}",
            *self.cases,
        ]


def read_divisions() -> list[dict[str, str]]:
    with DIVISIONS_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _kind_for(row: dict[str, str]) -> str:
    if row["level"] == "district":
        return UnitKind.DISTRICT
    if row["level"] == "street":
        return UnitKind.TOWN if row["name"].endswith("镇") else UnitKind.STREET
    return UnitKind.NEIGHBORHOOD


def load_units(report: LoadReport) -> dict[str, Unit]:
    existing = {unit.code: unit for unit in Unit.objects.all()}
    for row in read_divisions():  # the CSV lists parents before children
        if row["code"] in existing:
            continue
        parent = existing.get(row["parent_code"])
        unit = Unit(code=row["code"], name=row["name"], kind=_kind_for(row), parent=parent)
        unit.full_clean()
        unit.save()
        existing[unit.code] = unit
        report.units += 1
    district = existing["310106"]
    for number, name in enumerate(DEPARTMENTS, start=1):
        code = f"310106D{number:02d}"
        if code in existing:
            continue
        unit = Unit(code=code, name=name, kind=UnitKind.DEPARTMENT, parent=district)
        unit.save()
        existing[code] = unit
        report.departments += 1
    record_bulk_load(Unit, report.units + report.departments, "静安区统计用区划代码与区职能部门")
    return existing


def load_accounts(units: dict[str, Unit], report: LoadReport) -> None:
    by_name = {unit.name: unit for unit in units.values() if unit.kind == UnitKind.DEPARTMENT}
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=account.username, defaults={"display_name": account.display_name}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            report.users += 1
        unit = units.get(account.unit_code) or by_name[account.unit_code]
        Membership.objects.get_or_create(user=user, role=account.role, unit=unit)
    record_bulk_load(User, report.users, "演示账号")


def load_places(units: dict[str, Unit], scale: Scale, report: LoadReport) -> None:
    rng = random.Random(SEED)
    areas = sorted((u for u in units.values() if u.kind == UnitKind.NEIGHBORHOOD), key=lambda u: u.code)
    loaded = set(Estate.objects.values_list("unit_id", flat=True).distinct())
    estates: list[Estate] = []
    for area in areas:
        # Each area draws from its own seed, so its estates are the same whichever areas load with it.
        area_rng = random.Random(f"{SEED}-{area.code}")
        if area.pk in loaded:
            continue
        street_code = area.code[:9]
        weights = HOUSING_WEIGHTS["south" if street_code in SOUTH_STREETS else "north"]
        stem = area.name.removesuffix("居委会").removesuffix("村委会").removesuffix("居民区")
        used = set()
        for index in range(area_rng.randint(*scale.estates_per_area)):
            housing = area_rng.choices(list(weights), weights=list(weights.values()))[0]
            name = f"{stem}{area_rng.choice(NAME_SUFFIXES[housing])}"
            if name in used:
                name = f"{area_rng.choice(NAME_STEMS)}{area_rng.choice(NAME_STEMS)}{area_rng.choice(NAME_SUFFIXES[housing])}"
            if name in used:
                name = f"{name}{index + 1}期"
            used.add(name)
            households = area_rng.randint(120, 900)
            estates.append(
                Estate(
                    unit=area,
                    name=name,
                    housing_type=housing,
                    address=f"{area_rng.choice(ROAD_NAMES)}{area_rng.randint(1, 1800)}弄",
                    built_year=area_rng.randint(*BUILT_YEARS[housing]),
                    households=households,
                    floor_area=households * area_rng.randint(45, 95),
                )
            )
    Estate.objects.bulk_create(estates, batch_size=500)
    report.estates = len(estates)
    estates = list(Estate.objects.filter(unit_id__in=[e.unit_id for e in estates]).order_by("id"))

    buildings: list[Building] = []
    for estate in estates:
        low, high = FLOORS[estate.housing_type]
        count = rng.randint(*scale.buildings_per_estate)
        for number in range(1, count + 1):
            buildings.append(
                Building(
                    estate=estate,
                    unit_id=estate.unit_id,
                    number=f"{number}号",
                    floors=rng.randint(low, high),
                    households=max(1, estate.households // count),
                    address=f"{estate.address}{number}号",
                    has_elevator=low >= 6 and rng.random() < 0.7,
                )
            )
    Building.objects.bulk_create(buildings, batch_size=1000)
    report.buildings = len(buildings)
    buildings = list(Building.objects.filter(estate__in=estates).order_by("id"))

    groups: list[BuildingGroup] = []
    for building in buildings:
        count = rng.randint(*scale.groups_per_building)
        for number in range(1, count + 1):
            groups.append(
                BuildingGroup(
                    building=building,
                    unit_id=building.unit_id,
                    name=f"{building.number}{number}楼组",
                    households=max(1, building.households // count),
                    leader_name=person(rng) if rng.random() < 0.92 else "",
                )
            )
    BuildingGroup.objects.bulk_create(groups, batch_size=2000)
    report.groups = len(groups)
    record_bulk_load(Estate, report.estates, "合成小区")
    record_bulk_load(Building, report.buildings, "合成楼栋")
    record_bulk_load(BuildingGroup, report.groups, "合成楼组")


def load_grids_and_blocks(units: dict[str, Unit], report: LoadReport) -> None:
    rng = random.Random(SEED + 1)
    streets = sorted(
        (u for u in units.values() if u.kind in (UnitKind.STREET, UnitKind.TOWN)), key=lambda u: u.code
    )
    has_grids = set(Grid.objects.values_list("unit_id", flat=True))
    has_blocks = set(Block.objects.values_list("unit_id", flat=True))
    for street in streets:
        areas = sorted((u for u in units.values() if u.parent_id == street.pk), key=lambda u: u.code)
        if street.pk not in has_grids:
            # A street's grids partition its residential areas, three to five areas each.
            chunks = _chunks(areas, rng, 3, 5)
            for number, chunk in enumerate(chunks, start=1):
                grid = Grid.objects.create(
                    unit=street,
                    code=f"{street.code}G{number:02d}",
                    name=f"{street.name}第{number}网格",
                    description=f"覆盖{'、'.join(a.name for a in chunk)}",
                )
                grid.neighborhoods.set(chunk)
                report.grids += 1
        if street.pk not in has_blocks:
            for number, chunk in enumerate(_chunks(areas, rng, 4, 7), start=1):
                block = Block.objects.create(
                    unit=street,
                    name=f"{street.name.removesuffix('街道').removesuffix('镇')}第{number}街区",
                    description="和谐街区共建单位：居民区、沿街商户、商务楼宇",
                )
                block.neighborhoods.set(chunk)
                members = []
                for kind, names in rng.sample(BLOCK_MEMBERS, rng.randint(2, 4)):
                    members.append(
                        BlockMember(
                            block=block,
                            kind=kind,
                            name=f"{rng.choice(NAME_STEMS)}{rng.choice(names)}",
                            address=f"{rng.choice(ROAD_NAMES)}{rng.randint(1, 1500)}号",
                        )
                    )
                BlockMember.objects.bulk_create(members)
                report.blocks += 1
    record_bulk_load(Grid, report.grids, "合成网格")
    record_bulk_load(Block, report.blocks, "合成街区")


def _chunks(items: list, rng: random.Random, low: int, high: int) -> list[list]:
    chunks, index = [], 0
    while index < len(items):
        size = rng.randint(low, high)
        chunks.append(items[index : index + size])
        index += size
    return chunks


def load_tags() -> dict[str, ResidentTag]:
    district = Unit.objects.get(kind=UnitKind.DISTRICT)
    tags = {}
    for code, name in DEFAULT_TAGS:
        tags[code], _created = ResidentTag.objects.get_or_create(
            code=code, defaults={"name": name, "unit": district}
        )
    return tags


def synthetic_id_number(
    rng: random.Random, birth: datetime.date, male: bool, used: set[str]
) -> tuple[str, str]:
    """A resident ID number that passes GB 11643's checks (region 310106, a real date, the sex digit
    right) but is synthetic: sequence codes 900–999 only, drawn at random. Returns it with its blind
    index; `used` holds the blind indexes already taken."""
    while True:
        sequence = rng.randint(450, 499) * 2 + (1 if male else 0)  # 900–999, odd for men (GB 11643)
        body = f"310106{birth:%Y%m%d}{sequence:03d}"
        number = body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit
        index = crypto.blind_index(number, "resident_id")
        if index not in used:
            used.add(index)
            return number, index


def load_residents(
    scale: Scale, report: LoadReport, today: datetime.date | None = None, progress: Progress | None = None
) -> None:
    """Synthetic residents in every building group that has none yet, with households by room and tags
    that follow age (高龄老人 from 80) and chance (党员, 独居老人 among the old...)."""
    # Birth dates count back from a fixed day, so that the people are the same whenever the demo loads.
    today = today or datetime.date(2025, 6, 30)
    progress = progress or Progress.silent()
    tags = load_tags()
    rng = random.Random(SEED + 2)
    # Like estates: an area that has residents already (loaded before, or entered by its committee)
    # gets no synthetic ones.
    settled = Resident.objects.values("unit_id").distinct()
    groups = list(
        BuildingGroup.objects.exclude(unit_id__in=settled).select_related("building").order_by("id")
    )
    used = set(Resident.objects.exclude(id_index="").values_list("id_index", flat=True)) if groups else set()
    residents, tag_links, batch_size = [], [], 5000
    expected = round(len(groups) * sum(scale.residents_per_group) / 2)  # the mean of randint's range
    with progress.stage("居民", total=expected, unit="人") as stage:

        def flush():
            Resident.objects.bulk_create(residents, batch_size=batch_size)
            through = Resident.tags.through
            through.objects.bulk_create(
                [through(resident_id=residents[i].pk, residenttag_id=tag.pk) for i, tag in tag_links],
                batch_size=batch_size,
            )
            report.residents += len(residents)
            stage.update(len(residents))
            residents.clear()
            tag_links.clear()

        for group in groups:
            floors = group.building.floors or 6
            for _n in range(rng.randint(*scale.residents_per_group)):
                ((low, high),) = rng.choices(
                    [band for band, _w in AGE_BANDS], weights=[w for _b, w in AGE_BANDS]
                )
                age = rng.randint(low, high)
                birth = today.replace(year=today.year - age - 1) + datetime.timedelta(
                    days=rng.randint(1, 364)
                )
                male = rng.random() < 0.48
                number, index = synthetic_id_number(rng, birth, male, used)
                phone = f"1380013{rng.randint(0, 9999):04d}" if age >= 16 and rng.random() < 0.85 else ""
                room = f"{rng.randint(1, floors)}{rng.randint(1, 4):02d}"
                residents.append(
                    Resident(
                        unit_id=group.unit_id,
                        building_group=group,
                        room=room,
                        name=person(rng),
                        gender="M" if male else "F",
                        birth_date=birth,
                        document_type="resident_id",
                        id_cipher=crypto.encrypt(number),
                        id_index=index,
                        id_masked=mask_document(number),
                        phone_cipher=crypto.encrypt(phone) if phone else "",
                        phone_index=crypto.blind_index(phone, "phone") if phone else "",
                        phone_masked=mask_phone(phone) if phone else "",
                        residence_type=rng.choices(
                            ["registered", "resident", "floating"], weights=[70, 22, 8]
                        )[0],
                        separated=rng.random() < 0.12,
                        note="合成演示数据",
                    )
                )
                position = len(residents) - 1
                if age >= 80:
                    tag_links.append((position, tags["oldest_old"]))
                if age >= 60 and rng.random() < 0.12:
                    tag_links.append((position, tags["living_alone"]))
                if age >= 18 and rng.random() < 0.09:
                    tag_links.append((position, tags["party_member"]))
                if rng.random() < 0.03:
                    tag_links.append((position, tags["disabled"]))
                if rng.random() < 0.02:
                    tag_links.append((position, tags["low_income"]))
                if age >= 20 and rng.random() < 0.02:
                    tag_links.append((position, tags["veteran"]))
                if 16 <= age <= 75 and rng.random() < 0.05:
                    tag_links.append((position, tags["volunteer"]))
            if len(residents) >= batch_size:
                flush()
        flush()
        stage.total = max(report.residents, 1)  # the estimate's rounding, made exact for the last line
    load_households(progress)
    record_bulk_load(Resident, report.residents, "合成居民（证件号码为合成号码，顺序码 900–999）")


def load_households(progress: Progress | None = None) -> None:
    """One household per building group and room, headed by its oldest member."""
    progress = progress or Progress.silent()
    people = (
        Resident.objects.filter(household__isnull=True, building_group__isnull=False)
        .order_by("building_group_id", "room", "birth_date")
        .values_list("id", "building_group_id", "room", "unit_id")
    )
    by_room: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for pk, group_id, room, unit_id in people.iterator(chunk_size=10000):
        by_room.setdefault((group_id, room), []).append((pk, unit_id))
    households = [
        Household(building_group_id=group_id, room=room, unit_id=members[0][1], head_id=members[0][0])
        for (group_id, room), members in by_room.items()
    ]
    if not households:
        return
    members = sum(len(people) for people in by_room.values())
    with progress.stage("户与户成员", total=len(households) + members, unit="条") as stage:
        for start in range(0, len(households), 20000):
            Household.objects.bulk_create(households[start : start + 20000], batch_size=5000)
            stage.update(len(households[start : start + 20000]))
        links = []
        for household, people in zip(households, by_room.values(), strict=True):
            links.extend(Resident(pk=pk, household_id=household.pk) for pk, _unit in people)
            if len(links) >= 20000:
                Resident.objects.bulk_update(links, ["household"], batch_size=5000)
                stage.update(len(links))
                links = []
        Resident.objects.bulk_update(links, ["household"], batch_size=5000)
        stage.update(len(links))


@transaction.atomic
def load_demo(scale: str = "demo", progress: Progress | None = None) -> LoadReport:
    """The demo district at `scale`; `progress` shows each step on a terminal (a district-scale load
    runs for minutes). Cases end on the day it runs (cases.load_demo_cases)."""
    progress = progress or Progress.silent()
    report = LoadReport()
    progress.note("1/6 区划单位、职能部门和演示账号……")
    units = load_units(report)
    load_accounts(units, report)
    progress.note("2/6 小区、楼栋和楼组……")
    load_places(units, SCALES[scale], report)
    progress.note("3/6 网格和街区……")
    load_grids_and_blocks(units, report)
    progress.note("4/6 居民和户……")
    load_residents(SCALES[scale], report, progress=progress)
    progress.note("5/6 案件类别和职责清单……")
    load_rules(load_categories())
    progress.note("6/6 一年的案件……")
    report.cases = load_demo_cases(CASE_COUNTS[scale], progress=progress).lines()
    return report
