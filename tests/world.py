"""A small, complete district for tests: the real unit tree and departments, the eight demo accounts,
and one set of places inside 江宁路街道 (in 新安居委会) and one inside 石门二路街道."""

from dataclasses import dataclass

from shequ.demo.loader import LoadReport, load_accounts, load_units
from shequ.org.models import Unit, User
from shequ.registry import services
from shequ.registry.models import Block, Building, BuildingGroup, Estate, Grid

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


@dataclass
class World:
    units: dict[str, Unit]
    users: dict[str, User]
    jn: Places  # inside 江宁路街道, in 新安
    sm: Places  # inside 石门二路街道
    department: Unit

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
    return Places(area, estate, building, group, grid, block)


def build_world() -> World:
    report = LoadReport()
    units = load_units(report)
    load_accounts(units, report)
    users = {user.username: user for user in User.objects.all()}
    shimen_area = Unit.objects.filter(parent__code=SHIMEN).order_by("code").first()
    return World(
        units=units,
        users=users,
        jn=make_places(units[XINAN], "新安"),
        sm=make_places(shimen_area, "石门"),
        department=Unit.objects.get(name="区房管局"),
    )
