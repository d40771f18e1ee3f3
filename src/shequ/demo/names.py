"""Name pools of the synthetic demo data (people, roads), shared by the place, resident and case generators."""

import random

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉珍建国志红梅霞根宝")
ROAD_NAMES = [
    "江宁路",
    "昌平路",
    "新闸路",
    "康定路",
    "武定路",
    "西康路",
    "大田路",
    "石门二路",
    "南京西路",
    "愚园路",
    "常德路",
    "万航渡路",
    "共和新路",
    "广中路",
    "临汾路",
    "场中路",
    "彭江路",
    "灵石路",
    "延长路",
    "大宁路",
    "芷江西路",
    "天目西路",
    "宝山路",
    "海宁路",
    "恒丰路",
    "永和路",
]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
