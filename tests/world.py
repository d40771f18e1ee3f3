"""A small, complete district for tests: the real unit tree and departments, the eight demo accounts,
and one set of places inside 江宁路街道 (in 新安居委会) and one inside 石门二路街道."""

import datetime
from dataclasses import dataclass

from shequ.core import workdays
from shequ.core.models import CalendarDay
from shequ.demo.loader import LoadReport, load_accounts, load_tags, load_units
from shequ.org.models import Unit, User
from shequ.registry import services
from shequ.registry.models import Block, Building, BuildingGroup, Estate, Grid, Resident, ResidentTag

JIANGNING = "310106006"
XINAN = "310106006002"
SHIMEN = "310106011"


@dataclass
class Places:
    area: Unit
    estate: Estate
    building: Building
    group: BuildingGroup
    grid: Grid
    block: Block
    resident: Resident


@dataclass
class World:
    units: dict[str, Unit]
    users: dict[str, User]
    jn: Places  # inside 江宁路街道, in 新安
    sm: Places  # inside 石门二路街道
    department: Unit
    tag: ResidentTag
    calendar_day: CalendarDay | None = None  # one row of the district's holiday table

    def user(self, username: str) -> User:
        return User.objects.get(pk=self.users[username].pk)  # a fresh object: no cached memberships


def make_places(area: Unit, tag: str) -> Places:
    estate = services.create_estate(
        actor=None,
        unit=area,
        name=f"{tag}花园",
        housing_type="commercial",
        built_year=2001,
        households=300,
        address=f"{tag}路1弄",
    )
    building = services.create_building(actor=None, estate=estate, number="1号", floors=6, households=30)
    group = services.create_building_group(
        actor=None, building=building, name="1号1楼组", leader_name="王阿姨"
    )
    grid = services.create_grid(
        actor=None, unit=area.parent, code=f"{area.parent.code}G99", name=f"{tag}网格", neighborhoods=[area]
    )
    block = services.create_block(actor=None, unit=area.parent, name=f"{tag}街区", neighborhoods=[area])
    services.add_block_member(actor=None, block=block, name=f"{tag}便利店", kind="shop")
    resident = services.create_resident(
        actor=None,
        unit=area,
        building_group=group,
        room="101",
        name=f"{tag}居民",
        id_number=make_id_number(sequence=917 if tag == "新安" else 925),
        phone=f"1380013{len(tag)}{area.code[-3:]}",
    )
    return Places(area, estate, building, group, grid, block, resident)


def build_world() -> World:
    report = LoadReport()
    units = load_units(report)
    load_accounts(units, report)
    tags = load_tags()
    users = {user.username: user for user in User.objects.all()}
    shimen_area = Unit.objects.filter(parent__code=SHIMEN).order_by("code").first()
    return World(
        units=units,
        users=users,
        jn=make_places(units[XINAN], "新安"),
        sm=make_places(shimen_area, "石门"),
        department=Unit.objects.get(name="区房管局"),
        tag=tags["living_alone"],
        calendar_day=make_calendar_day(),
    )


def make_calendar_day() -> CalendarDay:
    # 元旦 is a day off every year (《全国年节及纪念日放假办法》第二条：元旦，放假1天（1月1日）), so this row is
    # true whatever the State Council's 2027 notice adds; chinese-calendar 1.11 does not know 2027.
    return workdays.create_calendar_day(
        actor=None,
        date=datetime.date(2027, 1, 1),
        kind="holiday",
        name="2027年元旦",
        note="《全国年节及纪念日放假办法》第二条",
    )


def make_id_number(birth: str = "19580312", sequence: int = 123, male: bool = True) -> str:
    """A resident ID number with a valid GB 11643 check digit for region 310106 (clearly synthetic)."""
    from stdnum.cn import ric

    digit = sequence % 10
    if (digit % 2 == 1) != male:
        digit = (digit + 1) % 10
    body = f"310106{birth}{sequence // 10 % 100:02d}{digit}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


@dataclass
class CaseSide:
    case: object
    summons: object


def make_case_world(world: World) -> dict[str, CaseSide]:
    """On each side a case dispatched by its street — 新安's to 区房管局 (so fangguan handles it),
    石门's to 区城管执法局 — and a summons of that department by that street."""
    from shequ.cases import services as cases
    from shequ.cases.seed import load_categories, load_rules

    categories = load_categories()
    load_rules(categories)
    sides = {}
    for side, street_user, code in (("jn", "jiangning", "S0301"), ("sm", "shimen", "E0501")):
        places = getattr(world, side)
        actor = world.user(street_user)
        case = cases.report_case(
            actor=actor,
            source="hotline",
            category=categories[code],
            description="权限矩阵案件",
            unit=places.area,
            building_group=places.group,
        )
        case = cases.register_case(actor=actor, case=case)
        case = cases.dispatch_case(actor=actor, case=case, assignee=cases.propose_assignee(case))
        summons = cases.summon_department(
            actor=actor,
            street=places.area.parent,
            department=case.assignee,
            reason="矩阵约请",
            request="请答复",
            cases=[case],
        )
        sides[side] = CaseSide(case, summons)
    world.case_sides = sides
    world.category = categories["S0301"]
    world.rule = case.rule
    return sides
