"""Reference data a district starts with: the case categories and a first responsibility list.

Categories follow the big classes of GB/T 30428.2 (数字化城市管理信息系统 第2部分：管理部件和事件): 部件
(components: 公用设施, 道路交通, 市容环境, 园林绿化, 房屋土地) and 事件 (events: 市容环境, 宣传广告,
施工管理, 突发事件, 街面秩序), with a selection of their small classes, plus the community matters the
plan names (物业服务, 业委会, 邻里纠纷, 群租, 噪声扰民, 违法搭建, 加装电梯, 旧住房改造, 养老服务). Codes are
data: the district office may renumber or add classes on the category page."""

from shequ.org.choices import UnitKind
from shequ.org.models import Unit

from .choices import CategoryKind, LimitUnit
from .models import Category, ResponsibilityRule

CATEGORIES = [
    (
        "C01",
        "公用设施",
        CategoryKind.COMPONENT,
        [
            ("C0101", "上水井盖"),
            ("C0102", "污水井盖"),
            ("C0103", "雨水箅子"),
            ("C0104", "路灯"),
            ("C0105", "消防栓"),
        ],
    ),
    (
        "C02",
        "道路交通",
        CategoryKind.COMPONENT,
        [("C0201", "交通标志牌"), ("C0202", "护栏"), ("C0203", "非机动车停放点")],
    ),
    (
        "C03",
        "市容环境",
        CategoryKind.COMPONENT,
        [("C0301", "垃圾箱房"), ("C0302", "公共厕所"), ("C0303", "废物箱")],
    ),
    ("C04", "园林绿化", CategoryKind.COMPONENT, [("C0401", "行道树"), ("C0402", "绿地")]),
    ("C05", "房屋土地", CategoryKind.COMPONENT, [("C0501", "房屋外立面"), ("C0502", "空置房屋")]),
    (
        "E01",
        "市容环境",
        CategoryKind.EVENT,
        [("E0101", "暴露垃圾"), ("E0102", "积存垃圾渣土"), ("E0103", "道路不洁")],
    ),
    ("E02", "宣传广告", CategoryKind.EVENT, [("E0201", "非法小广告"), ("E0202", "违规户外广告")]),
    ("E03", "施工管理", CategoryKind.EVENT, [("E0301", "施工扰民"), ("E0302", "道路遗撒")]),
    (
        "E04",
        "突发事件",
        CategoryKind.EVENT,
        [("E0401", "道路积水"), ("E0402", "管道破裂"), ("E0403", "路面塌陷")],
    ),
    (
        "E05",
        "街面秩序",
        CategoryKind.EVENT,
        [("E0501", "占道经营"), ("E0502", "无照经营游商"), ("E0503", "乱堆物料")],
    ),
    ("S01", "物业管理", CategoryKind.COMMUNITY, [("S0101", "物业服务"), ("S0102", "业委会")]),
    ("S02", "邻里关系", CategoryKind.COMMUNITY, [("S0201", "邻里纠纷"), ("S0202", "噪声扰民")]),
    (
        "S03",
        "房屋管理",
        CategoryKind.COMMUNITY,
        [("S0301", "群租"), ("S0302", "违法搭建"), ("S0303", "加装电梯"), ("S0304", "旧住房改造")],
    ),
    ("S04", "社区服务", CategoryKind.COMMUNITY, [("S0401", "养老服务")]),
]

# Open311 attributes for the categories that need more than a description (GeoReport v2 service
# definitions): whether water is still flowing from a broken pipe, and how deep standing water is.
ATTRIBUTES = {
    "E0402": [
        {
            "code": "still_flowing",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "是否仍在漏水",
            "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
        }
    ],
    "E0401": [
        {"code": "depth_cm", "datatype": "number", "required": False, "description": "积水深度（厘米）"}
    ],
}

# The first responsibility list: (small class, responsible, department name or "", handle limit, unit).
# Matters a street handles itself go to the place's street; specialised ones to the department that
# holds the power (城管执法 for street order and illegal building, 房管 for housing, 建管 for works and
# pipes, 公安 for noise at night, 民政 for elderly care); neighbour disputes first to the committee.
RULES = [
    ("E0101", "place_street", "", 1, LimitUnit.WORKING_DAYS),
    ("E0102", "place_street", "", 2, LimitUnit.WORKING_DAYS),
    ("E0103", "place_street", "", 1, LimitUnit.WORKING_DAYS),
    ("E0201", "fixed", "区城管执法局", 2, LimitUnit.WORKING_DAYS),
    ("E0202", "fixed", "区城管执法局", 5, LimitUnit.WORKING_DAYS),
    ("E0301", "fixed", "区建设管理委", 2, LimitUnit.WORKING_DAYS),
    ("E0302", "fixed", "区建设管理委", 1, LimitUnit.WORKING_DAYS),
    ("E0401", "fixed", "区建设管理委", 4, LimitUnit.WORKING_HOURS),
    ("E0402", "fixed", "区建设管理委", 4, LimitUnit.WORKING_HOURS),
    ("E0403", "fixed", "区建设管理委", 4, LimitUnit.WORKING_HOURS),
    ("E0501", "fixed", "区城管执法局", 1, LimitUnit.WORKING_DAYS),
    ("E0502", "fixed", "区城管执法局", 1, LimitUnit.WORKING_DAYS),
    ("E0503", "place_street", "", 2, LimitUnit.WORKING_DAYS),
    ("C0101", "fixed", "区建设管理委", 2, LimitUnit.WORKING_DAYS),
    ("C0102", "fixed", "区建设管理委", 2, LimitUnit.WORKING_DAYS),
    ("C0104", "fixed", "区绿化市容局", 3, LimitUnit.WORKING_DAYS),
    ("C0301", "place_street", "", 3, LimitUnit.WORKING_DAYS),
    ("C0401", "fixed", "区绿化市容局", 5, LimitUnit.WORKING_DAYS),
    ("C0402", "fixed", "区绿化市容局", 5, LimitUnit.WORKING_DAYS),
    ("C0501", "fixed", "区房管局", 5, LimitUnit.WORKING_DAYS),
    ("S0101", "fixed", "区房管局", 5, LimitUnit.WORKING_DAYS),
    ("S0102", "place_street", "", 10, LimitUnit.WORKING_DAYS),
    ("S0201", "place_area", "", 5, LimitUnit.WORKING_DAYS),
    ("S0202", "fixed", "公安静安分局", 1, LimitUnit.WORKING_DAYS),
    ("S0301", "fixed", "区房管局", 5, LimitUnit.WORKING_DAYS),
    ("S0302", "fixed", "区城管执法局", 10, LimitUnit.WORKING_DAYS),
    ("S0303", "fixed", "区房管局", 10, LimitUnit.WORKING_DAYS),
    ("S0304", "fixed", "区房管局", 15, LimitUnit.WORKING_DAYS),
    ("S0401", "fixed", "区民政局", 5, LimitUnit.WORKING_DAYS),
]


def load_categories() -> dict[str, Category]:
    """Idempotent: existing codes are left as the district office edited them."""
    district = Unit.objects.get(kind=UnitKind.DISTRICT)
    existing = {category.code: category for category in Category.objects.all()}
    for code, name, kind, children in CATEGORIES:
        parent = existing.get(code) or Category.objects.create(unit=district, code=code, name=name, kind=kind)
        existing[code] = parent
        for child_code, child_name in children:
            if child_code not in existing:
                existing[child_code] = Category.objects.create(
                    unit=district,
                    code=child_code,
                    name=child_name,
                    kind=kind,
                    parent=parent,
                    attributes=ATTRIBUTES.get(child_code, []),
                )
    return existing


def load_rules(categories: dict[str, Category]) -> None:
    district = Unit.objects.get(kind=UnitKind.DISTRICT)
    departments = {unit.name: unit for unit in Unit.objects.filter(kind=UnitKind.DEPARTMENT)}
    ruled = set(
        ResponsibilityRule.objects.filter(scope=district, housing_type="").values_list(
            "category__code", flat=True
        )
    )
    for code, responsible, department, limit, limit_unit in RULES:
        if code in ruled or code not in categories:
            continue
        ResponsibilityRule.objects.create(
            unit=district,
            category=categories[code],
            scope=district,
            responsible=responsible,
            responsible_unit=departments.get(department),
            handle_limit=limit,
            handle_unit=limit_unit,
        )
