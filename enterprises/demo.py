"""Demo data: Wugang's townships, the bureau's trades, a check-item list and ~300 enterprises.

Deterministic (fixed random seed) and fast (bulk inserts). ``seed_reference`` is also used by
tests and by the benchmark generator.
"""

import datetime as dt
import random
from decimal import Decimal

from accounts.models import Section

from .models import (
    CheckItem,
    CheckMethod,
    Enterprise,
    Licence,
    ProfessionalQualification,
    RiskAssessment,
    Township,
    Trade,
)
from .uscc import CHARSET, uscc_make

DIVISION = "410481"  # 舞钢市

TOWNSHIPS = [
    ("410481001", "垭口街道"),
    ("410481002", "寺坡街道"),
    ("410481003", "朱兰街道"),
    ("410481004", "院岭街道"),
    ("410481005", "矿建街道"),
    ("410481100", "八台镇"),
    ("410481101", "尹集镇"),
    ("410481102", "枣林镇"),
    ("410481103", "尚店镇"),
    ("410481200", "武功乡"),
    ("410481201", "杨庄乡"),
    ("410481202", "庙街乡"),
    ("410481203", "铁山乡"),
]

# code, name, section code
TRADES = [
    ("refined_oil", "成品油零售", "shichang"),
    ("prepaid_card", "单用途商业预付卡", "shangmao"),
    ("dismantling", "报废机动车回收拆解", "shichang"),
    ("recycling", "再生资源回收", "shichang"),
    ("used_car", "二手车交易市场", "shangmao"),
    ("auction", "拍卖", "shangmao"),
    ("salt", "食盐专营", "gongye"),
    ("explosives", "民用爆炸物品", "gongye"),
    ("franchise", "商业特许经营", "shangmao"),
    ("foreign_trade", "对外贸易经营", "waimao"),
    ("car_sales", "汽车销售", "shangmao"),
    ("bulk_cement", "散装水泥", "gongye"),
]

ONSITE, WRITTEN, ONLINE, AGENCY = (
    CheckMethod.ONSITE,
    CheckMethod.WRITTEN,
    CheckMethod.ONLINE,
    CheckMethod.AGENCY,
)

# code, name, trades, licence types, methods, ratio, qualification, section, basis, points
CHECK_ITEMS = [
    (
        "WG-SW-001",
        "成品油零售经营企业检查",
        ["refined_oil"],
        ["成品油零售经营批准证书"],
        [ONSITE, WRITTEN],
        "0.0300",
        ProfessionalQualification.REFINED_OIL,
        "shichang",
        "《成品油市场管理办法》；《河南省成品油市场管理实施办法》",
        "经营资质是否有效；油品进货来源及台账；计量器具检定；安全管理制度与应急预案",
    ),
    (
        "WG-SW-002",
        "单用途商业预付卡发卡企业检查",
        ["prepaid_card"],
        ["单用途商业预付卡备案"],
        [WRITTEN, ONLINE, ONSITE],
        "0.0300",
        "",
        "shangmao",
        "《单用途商业预付卡管理办法（试行）》",
        "是否按规定备案；预收资金余额及存管；发卡数量与单张限额；购卡实名登记",
    ),
    (
        "WG-SW-003",
        "报废机动车回收拆解企业检查",
        ["dismantling"],
        ["报废机动车回收拆解企业资质认定证书"],
        [ONSITE],
        "0.2000",
        ProfessionalQualification.VEHICLE_DISMANTLING,
        "shichang",
        "《报废机动车回收管理办法》；《报废机动车回收管理办法实施细则》",
        "资质认定；回收证明出具；“五大总成”处置；拆解场地环保与安全",
    ),
    (
        "WG-SW-004",
        "再生资源回收经营者备案检查",
        ["recycling"],
        ["再生资源回收经营者备案"],
        [ONSITE, WRITTEN],
        "0.0300",
        "",
        "shichang",
        "《再生资源回收管理办法》",
        "是否办理备案；收购生产性废旧金属登记；场地安全与环境",
    ),
    (
        "WG-SW-005",
        "二手车交易市场检查",
        ["used_car"],
        [],
        [ONSITE, WRITTEN],
        "0.1000",
        "",
        "shangmao",
        "《二手车流通管理办法》",
        "市场经营者备案；交易登记与档案；车辆来源合法性核验",
    ),
    (
        "WG-SW-006",
        "拍卖企业检查",
        ["auction"],
        ["拍卖经营批准证书"],
        [WRITTEN, ONSITE],
        "0.0300",
        "",
        "shangmao",
        "《中华人民共和国拍卖法》；《拍卖管理办法》",
        "拍卖经营许可；拍卖师执业；拍卖笔录与档案；佣金收取",
    ),
    (
        "WG-GX-001",
        "食盐专营检查",
        ["salt"],
        ["食盐定点批发企业证书"],
        [ONSITE],
        "0.0300",
        "",
        "gongye",
        "《食盐专营办法》",
        "食盐定点生产、批发资质；购销台账；食盐来源",
    ),
    (
        "WG-GX-002",
        "民用爆炸物品生产销售企业检查",
        ["explosives"],
        ["民用爆炸物品销售许可证"],
        [ONSITE, AGENCY],
        "0.2000",
        ProfessionalQualification.CIVIL_EXPLOSIVES,
        "gongye",
        "《民用爆炸物品安全管理条例》",
        "许可证有效期；储存库安全距离与设施；流向登记；从业人员资质",
    ),
    (
        "WG-SW-007",
        "商业特许经营备案检查",
        ["franchise"],
        [],
        [WRITTEN, ONLINE],
        "0.0100",
        "",
        "shangmao",
        "《商业特许经营管理条例》；《商业特许经营备案管理办法》",
        "特许人备案；信息披露；特许经营合同",
    ),
    (
        "WG-SW-008",
        "汽车销售企业检查",
        ["car_sales"],
        [],
        [WRITTEN, ONSITE],
        "0.0300",
        "",
        "shangmao",
        "《汽车销售管理办法》",
        "信息报送；明码标价；售后服务公示",
    ),
    (
        "WG-GX-003",
        "散装水泥和预拌混凝土企业检查",
        ["bulk_cement"],
        [],
        [ONSITE, WRITTEN],
        "0.0300",
        "",
        "gongye",
        "《河南省促进散装水泥发展条例》",
        "散装水泥使用；预拌混凝土生产场地；统计报送",
    ),
]

LICENCES = {
    "refined_oil": ("成品油零售经营批准证书", "油零售证书第", "平顶山市商务局"),
    "dismantling": ("报废机动车回收拆解企业资质认定证书", "豫报废", "河南省商务厅"),
    "prepaid_card": ("单用途商业预付卡备案", "豫预付卡备", "舞钢市工业信息化和商务局"),
    "recycling": ("再生资源回收经营者备案", "舞再生备", "舞钢市工业信息化和商务局"),
    "auction": ("拍卖经营批准证书", "豫拍", "河南省商务厅"),
    "salt": ("食盐定点批发企业证书", "豫盐批", "河南省工业和信息化厅"),
    "explosives": ("民用爆炸物品销售许可证", "豫民爆销", "河南省工业和信息化厅"),
}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华红玉兰志刚海燕宏伟俊峰晓东"
BRANDS = "恒通鑫源华盛宏达金鼎瑞丰嘉禾天成永安昌盛兴隆福泰中原钢城龙泉石漫滩灯台架九头崖"
SUFFIX = {
    "refined_oil": ["加油站", "石油销售有限公司", "能源有限公司加油站"],
    "prepaid_card": [
        "商贸有限公司",
        "超市有限公司",
        "美容美发店",
        "健身服务有限公司",
        "教育培训中心",
    ],
    "dismantling": ["报废汽车回收拆解有限公司"],
    "recycling": ["再生资源回收有限公司", "废旧物资回收站", "再生资源回收点"],
    "used_car": ["二手车交易市场有限公司", "二手车经纪有限公司"],
    "auction": ["拍卖有限公司"],
    "salt": ["盐业有限公司"],
    "explosives": ["民爆器材有限公司"],
    "franchise": ["餐饮管理有限公司", "便利店连锁有限公司"],
    "foreign_trade": ["进出口贸易有限公司", "特钢贸易有限公司"],
    "car_sales": ["汽车销售服务有限公司", "汽车贸易有限公司"],
    "bulk_cement": ["建材有限公司", "商品混凝土有限公司"],
}
WEIGHTS = {
    "refined_oil": 40,
    "prepaid_card": 70,
    "dismantling": 3,
    "recycling": 45,
    "used_car": 8,
    "auction": 4,
    "salt": 3,
    "explosives": 2,
    "franchise": 25,
    "foreign_trade": 30,
    "car_sales": 30,
    "bulk_cement": 12,
}
STREETS = [
    "钢城路",
    "建设路",
    "寺坡路",
    "矿建路",
    "朱兰大道",
    "湖滨大道",
    "龙泉路",
    "院岭路",
    "八台街",
    "尹集街",
]
TIER_SOURCES = ["国家“互联网+监管”系统推送", "股室评定", "信用风险分类结果"]


def seed_reference() -> dict:
    """Townships, trades and the check-item list (idempotent)."""
    for order, (code, name) in enumerate(TOWNSHIPS):
        Township.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    sections = {s.code: s for s in Section.objects.all()}
    trades = {}
    for code, name, section_code in TRADES:
        trades[code], _ = Trade.objects.get_or_create(
            code=code, defaults={"name": name, "section": sections.get(section_code)}
        )
    fallback = Section.objects.filter(is_lead=True).first() or Section.objects.first()
    for (
        code,
        name,
        item_trades,
        licences,
        methods,
        ratio,
        qual,
        section,
        basis,
        points,
    ) in CHECK_ITEMS:
        section_obj = sections.get(section) or fallback
        if section_obj is None or CheckItem.objects.filter(code=code).exists():
            continue
        item = CheckItem.objects.create(
            code=code,
            name=name,
            legal_basis=basis,
            object_scope="本市辖区内" + "、".join(trades[t].name for t in item_trades) + "经营主体",
            licence_types=licences,
            content=f"对{name.removesuffix('检查')}的合规经营情况进行检查",
            key_points=points,
            sub_items=points.replace("；", "\n"),
            methods=[str(m) for m in methods],
            default_ratio=Decimal(ratio),
            frequency="每年1次",
            required_qualification=qual,
            section=section_obj,
        )
        item.trades.set([trades[t] for t in item_trades])
    return trades


# trade code → (group name, group USCC): fictitious groups for the demo.
DEMO_GROUPS = {
    "refined_oil": ("河南豫中石油销售集团有限公司", uscc_make("91410400MA40GRP01")),
    "car_sales": ("平顶山中原汽车贸易集团有限公司", uscc_make("91410400MA40GRP02")),
}


def individual_type(enterprise: Enterprise) -> bool:
    return enterprise.enterprise_type == Enterprise.EnterpriseType.INDIVIDUAL


def random_uscc(rng: random.Random, *, individual: bool = False) -> str:
    body = "".join(rng.choice(CHARSET) for _ in range(9))
    return uscc_make(("92" if individual else "91") + DIVISION + body)


def seed(*, stdout) -> None:
    trades = seed_reference()
    if Enterprise.objects.exists():
        stdout.write("  检查对象名录库已有数据，跳过企业")
        return
    rng = random.Random(410481)  # noqa: S311 - demo data, not security
    townships = list(Township.objects.all())
    sections = {s.code: s for s in Section.objects.all()}
    trade_codes = list(WEIGHTS)
    used: set[str] = set()
    enterprises: list[Enterprise] = []
    trade_links: list = []
    for _n in range(300):
        code = rng.choices(trade_codes, weights=[WEIGHTS[c] for c in trade_codes])[0]
        individual = code in ("recycling", "prepaid_card") and rng.random() < 0.4
        uscc = random_uscc(rng, individual=individual)
        while uscc in used:
            uscc = random_uscc(rng, individual=individual)
        used.add(uscc)
        township = rng.choice(townships)
        brand = "".join(rng.sample(BRANDS, 2))
        suffix = rng.choice(SUFFIX[code])
        name = (
            f"舞钢市{brand}{suffix}"
            if not individual
            else f"舞钢市{township.name[:2]}{brand}{suffix.replace('有限公司', '店')}"
        )
        if name in {e.name for e in enterprises}:
            name = name.replace("舞钢市", f"舞钢市{township.name[:2]}", 1)
        person = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
        address = f"河南省平顶山市舞钢市{township.name}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
        status = rng.choices(
            [Enterprise.Status.ACTIVE, Enterprise.Status.SUSPENDED, Enterprise.Status.DEREGISTERED],
            weights=[92, 5, 3],
        )[0]
        enterprises.append(
            Enterprise(
                uscc=uscc,
                name=name,
                legal_representative=person,
                contact_person=person
                if rng.random() < 0.6
                else rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                contact_phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                registered_address=address,
                business_address=address,
                township=township,
                enterprise_type=Enterprise.EnterpriseType.INDIVIDUAL
                if individual
                else Enterprise.EnterpriseType.COMPANY,
                scale=rng.choice(
                    [
                        "",
                        Enterprise.Scale.SMALL,
                        Enterprise.Scale.MICRO,
                        Enterprise.Scale.BELOW,
                        Enterprise.Scale.ABOVE,
                    ]
                ),
                status=status,
                section=sections.get(dict((c, s) for c, _, s in TRADES)[code]),
            )
        )
        extra = [code]
        if code == "refined_oil" and rng.random() < 0.3:
            extra.append("prepaid_card")
        if code == "car_sales" and rng.random() < 0.3:
            extra.append("used_car")
        trade_links.append(extra)
    # Groups (所属集团): every third enterprise of a trade belongs to that trade's group, up to
    # five (no random draws, so the rest of the demo stays as it was).
    members: dict[str, int] = {}
    for n, (enterprise, codes) in enumerate(zip(enterprises, trade_links, strict=True)):
        group = DEMO_GROUPS.get(codes[0])
        if group is None or individual_type(enterprise) or n % 3:
            continue
        if members.get(codes[0], 0) < 5:
            members[codes[0]] = members.get(codes[0], 0) + 1
            enterprise.group_name, enterprise.group_uscc = group
    # A real pre-2016 code whose check digit fails, accepted with a recorded reason.
    enterprises[0].uscc = "91350203M0001QKT19"
    enterprises[0].uscc_override_reason = "2016年前登记的真实代码，经登记机关核实"
    Enterprise.objects.bulk_create(enterprises)
    through = Enterprise.trades.through
    ids = dict(Enterprise.objects.values_list("uscc", "id"))
    through.objects.bulk_create(
        [
            through(enterprise_id=ids[e.uscc], trade_id=trades[c].pk)
            for e, codes in zip(enterprises, trade_links, strict=True)
            for c in codes
        ]
    )
    assessments, licences = [], []
    for e, codes in zip(enterprises, trade_links, strict=True):
        eid = ids[e.uscc]
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
        for k in range(rng.choice((1, 1, 2, 3))):
            assessments.append(
                RiskAssessment(
                    enterprise_id=eid,
                    tier=rng.choices("ABCD", weights=[50, 30, 15, 5])[0],
                    effective_date=start + dt.timedelta(days=240 * k),
                    source=rng.choice(TIER_SOURCES),
                    reason="年度信用风险分类" if k == 0 else "检查发现问题后调整",
                )
            )
        for c in codes:
            if c in LICENCES:
                kind, prefix, issuer = LICENCES[c]
                issued = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 1800))
                licences.append(
                    Licence(
                        enterprise_id=eid,
                        licence_type=kind,
                        number=f"{prefix}{rng.randint(100000, 999999)}号",
                        issued_on=issued,
                        expires_on=issued + dt.timedelta(days=365 * 5),
                        issuer=issuer,
                    )
                )
    RiskAssessment.objects.bulk_create(assessments)
    Licence.objects.bulk_create(licences, ignore_conflicts=True)
    stdout.write(
        f"  乡镇/街道 {len(TOWNSHIPS)} 个，监管行业 {len(TRADES)} 个，检查事项 {len(CHECK_ITEMS)} 项，"
        f"企业 {len(enterprises)} 家，风险评定 {len(assessments)} 条，许可证 {len(licences)} 张"
    )
