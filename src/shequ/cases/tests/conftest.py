import datetime
from zoneinfo import ZoneInfo

import pytest

from shequ.cases import services
from shequ.cases.seed import load_categories, load_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def categories(world):
    found = load_categories()
    load_rules(found)
    return found


@pytest.fixture
def new_case(world, categories):
    """A case reported by 江宁路's staff at 新安花园's building group, at a given time."""

    def make(code="S0301", now=None, actor="jiangning", **overrides):
        fields = {
            "source": "grid_patrol",
            "category": categories[code],
            "description": "3楼疑似群租，人员进出频繁",
            "unit": world.jn.area,
            "building_group": world.jn.group,
            "reporter_name": "王先生",
            "reporter_phone": "13800138000",
        }
        return services.report_case(
            actor=world.user(actor) if actor else None, now=now, **{**fields, **overrides}
        )

    return make
