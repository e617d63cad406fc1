"""Demo draws (called by ``inspections.demo.seed`` after the plan): completed draws for the demo
plan's tasks, one of them voided (asked by the operator, approved by a second person) and drawn again, and
a post-draw recusal approved by a section head,
so the discipline group has a trail to review. The last task is left for a hands-on draw."""

from accounts.models import User
from approvals.services import approval_decide

from ..models import Draw, DrawSelection, Plan
from ..services import draws as services

# (witnesses, dice kind, dice) per task, as if rolled in the meeting room
ROLLS = [
    (["王建设（企业代表）", "陈志刚（纪检派驻组）"], "d6", "41526 35214 66132 54123"),
    (["刘红梅（商户代表）", "陈志刚（纪检派驻组）"], "d10", "90817 26354 40918 27365"),
    (["赵大伟（行业协会）", "陈志刚（纪检派驻组）"], "d6", "21345 61234 56543 21661"),
]
REDRAW = (["王建设（企业代表）", "陈志刚（纪检派驻组）"], "d6", "63524 15263 41526 33412")


def _perform(task, lead, roll):
    draw = services.draw_commit(actor=lead, task=task)
    witnesses, kind, dice = roll
    return services.draw_perform(
        actor=lead, draw=draw, witnesses=witnesses, dice_kind=kind, dice=dice
    )


def seed(*, stdout) -> None:
    lead = User.objects.filter(username="lead").first()
    lead2 = User.objects.filter(username="lead2").first()
    head = User.objects.filter(username="head").first()
    plan = Plan.objects.filter(number__startswith="舞工信商〔2026〕").order_by("pk").first()
    if lead is None or plan is None:
        stdout.write("  缺少演示计划或账户，跳过抽取")
        return
    if Draw.objects.filter(task__plan=plan).exists():
        stdout.write("  演示抽取已存在，跳过")
        return
    tasks = list(plan.tasks.order_by("seq"))[: len(ROLLS)]
    done = 0
    for index, (task, roll) in enumerate(zip(tasks, ROLLS, strict=False)):
        try:
            draw = _perform(task, lead, roll)
            if index == 0 and lead2 is not None:
                # Asked by the operator, approved by lead2 (as on the approvals page).
                approval = services.draw_void_request(
                    actor=lead,
                    draw=draw,
                    reason="（演示）冻结名单后发现一户企业风险等级录入错误，经批准作废重抽",
                )
                approval_decide(actor=lead2, request=approval, approve=True)
                draw = _perform(task, lead, REDRAW)
            if index == 1 and head is not None:
                selection = DrawSelection.objects.filter(draw=draw).order_by("order").first()
                member = selection.members.first() if selection else None
                if selection is not None and member is not None:
                    approval = services.draw_replace_request(
                        actor=lead,
                        selection=selection,
                        out=member.inspector,
                        reason="（演示）该检查人员配偶在被抽中企业任职，申请回避",
                    )
                    approval_decide(actor=head, request=approval, approve=True)
            done += 1
        except services.DrawError as exc:
            stdout.write(f"  {task.number} 未能完成演示抽取：{'；'.join(exc.messages)}")
    stdout.write(f"  演示抽取 {done} 次（含 1 次作废重抽和 1 次回避替补）")
