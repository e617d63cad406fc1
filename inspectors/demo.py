"""Demo roster: 24 inspectors across the sections, certificates (some expiring soon, one
expired), a few on leave or suspended, qualifications, training, three recusals (an
enterprise, a legal representative, a group), experts and agencies. Dates are relative to
today so the demo stays meaningful."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Section, User
from enterprises.demo import DEMO_GROUPS
from enterprises.models import Enterprise, Trade

from .models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod, Training

# staff number, name, section code, position, qualifications, expert, leader, id number
INSPECTORS = [
    (
        "WG001",
        "张伟",
        "shichang",
        "市场运行股副股长",
        ["refined_oil"],
        False,
        True,
        "410481198503121238",
    ),
    ("WG002", "王芳", "shichang", "科员", [], False, False, ""),
    ("WG003", "李强", "shichang", "科员", ["refined_oil", "hazchem"], True, True, ""),
    ("WG004", "刘敏", "shichang", "科员", [], False, False, ""),
    ("WG005", "陈军", "shangmao", "商贸服务股股长", [], False, True, ""),
    ("WG006", "杨静", "shangmao", "科员", [], False, False, ""),
    ("WG007", "赵磊", "shangmao", "科员", ["dismantling"], True, False, ""),
    ("WG008", "黄丽", "shangmao", "科员", [], False, False, ""),
    ("WG009", "周勇", "waimao", "对外贸易股股长", [], False, True, ""),
    ("WG010", "吴婷", "waimao", "科员", [], False, False, ""),
    ("WG011", "徐涛", "waimao", "科员", [], False, False, ""),
    ("WG012", "孙丹", "waimao", "科员", [], False, False, ""),
    ("WG013", "胡斌", "gongye", "工业运行股股长", ["special_equipment"], True, True, ""),
    ("WG014", "朱红", "gongye", "科员", ["hazchem"], False, False, ""),
    ("WG015", "高鹏", "gongye", "科员", ["explosives"], True, False, ""),
    ("WG016", "林娜", "gongye", "科员", [], False, False, ""),
    ("WG017", "何刚", "fagui", "政策法规股股长", [], False, True, ""),
    ("WG018", "郭燕", "fagui", "科员", [], False, False, ""),
    ("WG019", "马超", "fagui", "科员", [], False, True, ""),
    ("WG020", "罗慧", "fagui", "科员", [], False, False, ""),
    ("WG021", "梁辉", "shichang", "科员", ["refined_oil"], False, False, ""),
    ("WG022", "宋佳", "shangmao", "科员", [], False, False, ""),
    ("WG023", "郑浩", "gongye", "科员", [], False, False, ""),
    ("WG024", "谢梅", "waimao", "科员", [], False, False, ""),
]


def seed(*, stdout) -> None:
    today = timezone.localdate()
    sections = {s.code: s for s in Section.objects.all()}
    if not sections:
        stdout.write("  （没有股室，跳过执法人员名录）")
        return
    fallback = next(iter(sections.values()))
    trades_by_section: dict[int | None, list] = {}
    for trade in Trade.objects.all():
        trades_by_section.setdefault(trade.section_id, []).append(trade)
    all_trades = list(Trade.objects.all())
    admin = User.objects.filter(username="sysadmin").first()
    demo_inspector_user = User.objects.filter(username="inspector").first()

    inspectors = []
    for n, (staff, name, code, position, quals, expert, leader, id_number) in enumerate(
        INSPECTORS, start=1
    ):
        section = sections.get(code, fallback)
        inspector = Inspector(
            staff_number=staff, name=name, section=section, position=position,
            mobile=f"1393750{n:04d}", professional_qualifications=quals, is_expert=expert,
            can_lead=leader, joined_on=today - timedelta(days=365 * (2 + n % 9)),
            user=demo_inspector_user if staff == "WG001" else None,
        )  # fmt: skip
        inspector.id_number = id_number or _id_number(n)
        inspector.save()
        # The lead section's staff may inspect every trade; others the trades of their section.
        trades = all_trades if section.is_lead else trades_by_section.get(section.pk, [])
        inspector.trades.set(trades)
        inspectors.append(inspector)
        # Certificates: most valid for years; WG004 and WG010 expire within 30 days (WG010
        # has already renewed), WG016 expired last month.
        if staff == "WG016":
            expires = today - timedelta(days=20)
        elif staff in ("WG004", "WG010"):
            expires = today + timedelta(days=12 if staff == "WG004" else 25)
        else:
            expires = today + timedelta(days=300 + 47 * n)
        Certificate.objects.create(
            inspector=inspector, number=f"豫41048{n:06d}", issued_on=expires - timedelta(days=5 * 365),
            expires_on=expires,
        )  # fmt: skip
        if staff == "WG010":
            Certificate.objects.create(
                inspector=inspector, number=f"豫41048{n + 500:06d}",
                issued_on=today - timedelta(days=3), expires_on=today + timedelta(days=5 * 365),
            )  # fmt: skip
        for k, (course, hours, provider) in enumerate(TRAININGS):
            if (n + k) % 3 != 0:
                Training.objects.create(
                    inspector=inspector, course=course, hours=Decimal(hours), provider=provider,
                    held_on=today.replace(month=1, day=1) + timedelta(days=40 + 60 * k + n % 7)
                    if today.month > 1 + 2 * k
                    else today - timedelta(days=300 - 30 * k),
                )  # fmt: skip
    by_staff = {i.staff_number: i for i in inspectors}
    StatusPeriod.objects.create(
        inspector=by_staff["WG002"],
        status="leave",
        start=today + timedelta(days=3),
        end=today + timedelta(days=12),
        reason="年休假",
        created_by=admin,
    )
    StatusPeriod.objects.create(
        inspector=by_staff["WG008"],
        status="leave",
        start=today - timedelta(days=2),
        end=today + timedelta(days=5),
        reason="病假",
        created_by=admin,
    )
    StatusPeriod.objects.create(
        inspector=by_staff["WG011"],
        status="suspended",
        start=today - timedelta(days=30),
        reason="接受组织调查期间暂停执法",
        created_by=admin,
    )
    StatusPeriod.objects.create(
        inspector=by_staff["WG024"],
        status="transferred",
        start=today - timedelta(days=90),
        reason="调任舞钢市发展和改革委员会",
        created_by=admin,
    )
    if admin:
        enterprise = Enterprise.objects.order_by("uscc").first()
        if enterprise:
            Recusal.objects.create(
                inspector=by_staff["WG003"],
                enterprise=enterprise,
                reason="kinship",
                reason_detail="配偶在该企业任财务负责人",
                declared_on=today - timedelta(days=60),
                approved_by=admin,
            )
        group_name = DEMO_GROUPS["car_sales"][0]
        if Enterprise.objects.filter(group_name=group_name).exists():
            Recusal.objects.create(
                inspector=by_staff["WG005"],
                group=group_name,
                reason="former_employment",
                reason_detail="2023年前曾在该集团下属企业任职",
                declared_on=today - timedelta(days=40),
                approved_by=admin,
            )
        Recusal.objects.create(
            inspector=by_staff["WG006"],
            legal_representative="王建军",
            reason="interest",
            reason_detail="与该法定代表人存在借贷关系",
            declared_on=today - timedelta(days=20),
            approved_by=admin,
        )
    for code, name, org, field, quals in EXPERTS:
        Expert.objects.create(
            code=code,
            name=name,
            organisation=org,
            field=field,
            qualification="高级工程师",
            professional_qualifications=quals,
            contact="0375-81234" + code[-2:],
            valid_from=today - timedelta(days=400),
            valid_until=today + timedelta(days=700),
        )
    for code, name, uscc, field, quals in AGENCIES:
        Agency.objects.create(
            code=code,
            name=name,
            uscc=uscc,
            field=field,
            qualification="CMA 检验检测资质",
            professional_qualifications=quals,
            contact="联系人 0375-2600" + code[-3:],
            contract_start=today.replace(month=1, day=1),
            contract_end=today.replace(month=12, day=31),
        )
    stdout.write(
        f"  执法检查人员 {len(inspectors)} 名（张伟关联演示账户 inspector），"
        f"专业技术人员 {len(EXPERTS)} 名，委托专业机构 {len(AGENCIES)} 家"
    )


def _id_number(n: int) -> str:
    weights, check = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], "10X98765432"
    body = f"410481{1970 + n % 25}{1 + n % 12:02d}{1 + n % 28:02d}{100 + n:03d}"
    return body + check[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


TRAININGS = [
    ("“双随机、一公开”监管工作业务培训", "8", "舞钢市司法局"),
    ("行政执法人员公共法律知识培训", "16", "平顶山市司法局"),
    ("成品油市场监管与安全检查实务", "6", "河南省商务厅"),
]

EXPERTS = [
    ("ZJ001", "刘长河", "平顶山市特种设备检验所", "特种设备", ["special_equipment"]),
    ("ZJ002", "高峰", "河南城建学院", "成品油安全", ["refined_oil", "hazchem"]),
    ("ZJ003", "孟凡", "舞钢市应急管理局技术中心", "危险化学品", ["hazchem"]),
    ("ZJ004", "杜娟", "平顶山学院", "民用爆炸物品", ["explosives"]),
]

AGENCIES = [
    (
        "JG001",
        "河南安信检测技术有限公司",
        "91440101MA5CJQ4N59",
        "成品油质量与安全",
        ["refined_oil"],
    ),
    (
        "JG002",
        "平顶山市中鼎安全技术服务有限公司",
        "9135021359498494XQ",
        "危化品与特种设备",
        ["hazchem", "special_equipment"],
    ),
]
