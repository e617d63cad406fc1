"""Demo visits (call ``seed(stdout=...)`` after ``inspections.demo.draws.seed``): visits for
every completed demo draw, then one in each state — 检查中, 待审核, 退回, 已审核, 已归档 (with a
refused signature and a witness, photos, a lead transfer and follow-up), and one with serious
non-cooperation — the rest 待检查. Team members without a login get a demo account (username =
staff number in lower case, the demo password), so each step is done by the right person."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth.models import Group
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.demo import DEMO_PASSWORD as PASSWORD
from accounts.models import User
from accounts.roles import Role

from ..models import Draw, NonCooperation, ResultCategory, Visit
from ..selectors import visits as visit_selectors
from ..services import visits as services


def _image(colour, *, fmt="JPEG") -> bytes:
    image = Image.new("RGB", (480, 320), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 440, 280), outline=(255, 255, 255), width=6)
    draw.line((60, 260, 420, 60), fill=(255, 255, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _signature() -> bytes:
    image = Image.new("RGB", (640, 200), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.line(
        [(60, 140), (140, 60), (200, 150), (280, 70), (360, 140), (520, 90)],
        fill=(0, 0, 0),
        width=5,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _recorder(visit: Visit) -> User | None:
    """The first team member's login, made for the demo if the inspector has none."""
    member = visit.members.select_related("inspector__user", "inspector__section").first()
    if member is None:
        return None
    inspector = member.inspector
    if inspector.user_id is None:
        user, created = User.objects.get_or_create(
            username=inspector.staff_number.lower(),
            defaults={
                "full_name": inspector.name,
                "section": inspector.section,
                "is_demo": True,
                "must_change_password": False,
            },
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=Role.INSPECTOR))
        inspector.user = user
        inspector.save(update_fields=["user"])
    return inspector.user


def _record(
    visit: Visit,
    actor,
    *,
    day: dt.date,
    categories=("no_problem",),
    signing="unsigned",
    finding="经营资格合法有效，未发现违法违规问题。",
) -> Visit:
    cats = {c.code: c.pk for c in ResultCategory.objects.all()}
    members = {}
    for index, m in enumerate(visit.members.select_related("inspector").order_by("position")):
        certificate = next((c for c in m.inspector.certificates.all() if c.covers(day, day)), None)
        members[m.pk] = {
            "present": index < 2 and certificate is not None,
            "certificate_number": certificate.number if certificate else "",
        }
    results = {
        r.pk: {
            "method": "onsite",
            "checked": f"现场查看{r.check_item.name}相关证照、台账和经营场所",
            "finding": finding,
            "categories": [cats[c] for c in categories],
        }
        for r in visit.results.select_related("check_item")
    }
    fields = {
        "check_start": day,
        "check_end": day,
        "summary": "检查人员出示执法证件，说明来意，企业负责人陪同检查。",
        "signing_form": signing,
    }
    if signing == "unsigned":
        fields.update(
            unsigned_reason="法定代表人外出，现场负责人以未获授权为由拒绝签字。",
            witness_name="刘建华",
            witness_detail="所在社区网格员",
        )
    else:
        fields.update(
            signer_name=visit.enterprise.legal_representative or "王经理", signer_role="legal_rep"
        )
    visit, _ = services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        fields=fields,
        members=members,
        results=results,
    )
    if signing == "signature":
        visit = services.visit_signature_capture(
            actor=actor, visit=visit, version=visit.version, png=_signature()
        )
    services.evidence_add(
        actor=actor,
        visit=visit,
        upload=("现场照片1.jpg", _image((70, 110, 160))),
        kind="photo",
        description="经营场所外景",
    )
    services.evidence_add(
        actor=actor,
        visit=visit,
        upload=("现场照片2.jpg", _image((90, 140, 90))),
        kind="photo",
        description="证照公示情况",
    )
    visit.refresh_from_db()
    return visit


def seed(*, stdout) -> None:
    lead = User.objects.filter(username="lead").first()
    head = User.objects.filter(username="head").first()
    if lead is None:
        stdout.write("  缺少演示账户，跳过检查记录")
        return
    if Visit.objects.exists():
        stdout.write("  检查记录已存在，跳过")
        return
    visits = []
    for draw in Draw.objects.filter(status=Draw.Status.COMPLETED).order_by("completed_at", "pk"):
        visits += services.visits_create_for_draw(actor=lead, draw=draw)
    if not visits:
        stdout.write("  没有完成的抽取，跳过检查记录")
        return
    reviewable = [
        v
        for v in visits
        if head is not None
        and v.section_id == head.section_id
        and not visit_selectors.is_team_member(head, v)
    ]
    others = [v for v in visits if v not in reviewable]
    states = {}

    today = timezone.localdate()

    def on(visit, days):
        return min(visit.window_start + dt.timedelta(days=days), visit.window_end, today)

    def take(pool):
        return pool.pop(0) if pool else None

    # 已归档: refused signature with a witness, photos, a lead transfer, follow-up.
    visit = take(reviewable)
    if visit is not None:
        actor = _recorder(visit)
        day = on(visit, 14)
        visit = _record(
            visit,
            actor,
            day=day,
            categories=("corrected",),
            finding="未在经营场所醒目位置公示成品油零售经营批准证书，已当场责令改正。",
        )
        visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
        visit = services.visit_return(
            actor=head,
            visit=visit,
            version=visit.version,
            reason="请补充现场照片中证照公示情况的说明。",
        )
        visit, _ = services.visit_save_draft(
            actor=actor,
            visit=visit,
            version=visit.version,
            fields={"summary": "检查人员出示执法证件，说明来意。已补充：证照公示照片见证据材料。"},
        )
        visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
        visit = services.visit_approve(
            actor=head, visit=visit, version=visit.version, opinion="同意。"
        )
        services.transfer_create(
            actor=actor,
            visit=visit,
            department="舞钢市市场监督管理局",
            content="检查中发现该企业便利店销售的部分预包装食品疑似超过保质期，移送核查。",
            sent_on=day + dt.timedelta(days=1),
        )
        services.follow_up_add(
            actor=actor,
            visit=visit,
            measures=["order_correction"],
            due_on=day + dt.timedelta(days=15),
            detail="责令七日内在醒目位置公示经营批准证书，并报送整改照片。",
        )
        states["已归档"] = visit
    # 已审核 (not yet archived) with a signature on the tablet.
    visit = take(reviewable)
    if visit is not None:
        actor = _recorder(visit)
        day = on(visit, 16)
        visit = _record(visit, actor, day=day, signing="signature")
        visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
        visit = services.visit_approve(
            actor=head, visit=visit, version=visit.version, archive=False
        )
        services.follow_up_add(actor=actor, visit=visit, measures=["none"])
        states["已审核"] = visit
    # 待审核: serious non-cooperation with its evidence.
    visit = take(reviewable)
    if visit is not None:
        actor = _recorder(visit)
        day = on(visit, 18)
        visit = _record(
            visit,
            actor,
            day=day,
            categories=("non_cooperation",),
            finding="企业负责人拒绝检查人员进入储油区，经反复说明仍拒不配合。",
        )
        record = services.non_cooperation_record(
            actor=actor,
            visit=visit,
            case=NonCooperation.Case.REFUSED_ENTRY,
            occurred_on=day,
            description="检查人员出示执法证件并说明来意后，企业负责人锁闭储油区大门，拒绝检查人员进入。",
        )
        services.evidence_add(
            actor=actor,
            visit=visit,
            upload=("拒绝进入.jpg", _image((150, 60, 60))),
            kind="non_cooperation",
            non_cooperation=record,
            description="锁闭的储油区大门",
        )
        visit.refresh_from_db()
        visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
        states["待审核"] = visit
    # 退回
    visit = take(reviewable)
    if visit is not None:
        actor = _recorder(visit)
        day = on(visit, 20)
        visit = _record(visit, actor, day=day)
        visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
        visit = services.visit_return(
            actor=head,
            visit=visit,
            version=visit.version,
            reason="检查内容过于简略，请补充进销存台账的核查情况。",
        )
        states["退回"] = visit
    # 检查中: a half-filled draft (prefer the demo inspector's own visit).
    pool = reviewable + others
    demo_user = User.objects.filter(username="inspector").first()
    mine = [v for v in pool if demo_user and visit_selectors.is_team_member(demo_user, v)]
    visit = mine[0] if mine else take(pool)
    if visit is not None:
        actor = demo_user if mine else _recorder(visit)
        services.visit_save_draft(
            actor=actor,
            visit=visit,
            version=visit.version,
            fields={
                "place": visit.place or "舞钢市垭口街道",
                "summary": "（草稿）已到达企业，正在核查证照。",
            },
        )
        states["检查中"] = visit
    counts = {label: 1 for label in states}
    counts["待检查"] = Visit.objects.filter(status=Visit.Status.SCHEDULED).count()
    stdout.write(
        "  检查记录 {} 条（{}）".format(
            len(visits), "，".join(f"{k} {v}" for k, v in counts.items())
        )
    )
