import json
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role
from core.paging import rows_and_more
from core.params import param_date, param_int, param_text
from core.pdf import pdf_response, render_pdf
from core.permissions import role_required

from . import checkpoints
from .models import AuditEvent
from .selectors import object_type_names
from .services import audit_checkpoint_create, audit_record

LOG_READERS = (Role.AUDIT_ADMIN, Role.DISCIPLINE)
PAGE_SIZE = 50


def _period(request, default_days: int = 30) -> tuple[date, date]:
    today = timezone.localdate()
    end = param_date(request.GET, "to") or today
    start = param_date(request.GET, "from") or end - timedelta(days=default_days - 1)
    return (start, end) if start <= end else (end, start)


def _aware(day: date, end: bool = False) -> datetime:
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    return timezone.make_aware(moment)


@role_required(*LOG_READERS)
def event_list(request):
    """The whole log, newest first. Keyset pagination on the sequence number: no COUNT(*) of the
    table and no deep OFFSET, however long the log grows."""
    events = AuditEvent.objects.order_by("-seq")
    event_type = param_text(request.GET, "type")
    actor = param_text(request.GET, "actor")
    object_type = param_text(request.GET, "object_type")
    object_id = param_text(request.GET, "object_id")
    if event_type:
        events = events.filter(event_type__startswith=event_type)
    if actor:
        events = events.filter(actor_name__contains=actor)
    if object_type:
        events = events.filter(object_type__in=object_type_names(object_type))
    if object_id:
        events = events.filter(object_id=object_id)
    before = param_int(request.GET, "before")
    if before is not None:
        events = events.filter(seq__lt=before)
    rows, has_next = rows_and_more(events, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "events": rows,
            "next_before": rows[-1].seq if has_next else None,
            "filters": query.urlencode(),
            "type": event_type,
            "actor": actor,
            "object_type": object_type,
            "object_id": object_id,
        },
    )


SECURITY_EVENTS = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.lockout": "账户锁定",
    "auth.logout": "退出",
    "auth.password_changed": "修改密码",
    "auth.password_reset": "重置密码",
    "auth.roles_changed": "角色变更",
    "auth.write_denied": "只读角色写操作被拒",
}


@role_required(*LOG_READERS)
def security_overview(request):
    """Logins, failures, lockouts and role grants over a period, and the last verification."""
    start, end = _period(request)
    in_period = AuditEvent.objects.filter(
        occurred_at__gte=_aware(start), occurred_at__lt=_aware(end, end=True)
    )
    per_day = (
        in_period.filter(event_type__in=SECURITY_EVENTS)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            **{
                code.replace(".", "_"): Count("seq", filter=Q(event_type=code))
                for code in SECURITY_EVENTS
            }
        )
        .order_by("-day")
    )
    rows = [
        (row["day"], [row[code.replace(".", "_")] for code in SECURITY_EVENTS]) for row in per_day
    ]
    grants = in_period.filter(event_type="auth.roles_changed").order_by("-seq")[:100]
    lockouts = in_period.filter(event_type="auth.lockout").order_by("-seq")[:100]
    last_verification = (
        AuditEvent.objects.filter(event_type="audit.chain_verified").order_by("-seq").first()
    )
    audit_record(
        event_type="oversight.viewed",
        actor=request.user,
        object_type="audit.security_overview",
        detail={"from": start, "to": end},
    )
    return render(
        request,
        "audit/security_overview.html",
        {
            "start": start,
            "end": end,
            "rows": rows,
            "columns": list(SECURITY_EVENTS.items()),
            "grants": grants,
            "lockouts": lockouts,
            "last_verification": last_verification,
        },
    )


@require_POST
@role_required(Role.AUDIT_ADMIN)
def chain_verify(request):
    """Verify the chain against every checkpoint; when intact, a new checkpoint is written."""
    result, path = audit_checkpoint_create()
    audit_record(
        event_type="audit.chain_verified",
        actor=request.user,
        outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
        detail={
            "checked": result.checked,
            "broken_seq": result.broken_seq,
            "problem": result.problem,
            "checkpoint": path.name if path else None,
        },
    )
    if result.ok:
        messages.success(
            request,
            _(
                "日志链完整：已核验 %(checked)s 条记录，与 %(anchors)s 个检查点相符；已写入新检查点。"
            )
            % {"checked": result.checked, "anchors": result.checkpoints},
        )
    else:
        messages.error(
            request,
            _("日志链在第 %(seq)s 条断开：%(problem)s")
            % {"seq": result.broken_seq, "problem": result.problem},
        )
    # Back to the screen the button was on (a fixed choice, never a URL from the request).
    if request.POST.get("back") == "security":
        return redirect("audit:security_overview")
    if request.POST.get("back") == "checkpoints":
        return redirect("audit:checkpoint_list")
    return redirect("audit:event_list")


@role_required(*LOG_READERS)
def checkpoint_list(request):
    """The newest signed checkpoints (files on the application server, not in the database),
    each downloadable as its signed JSON or a printable PDF to keep on paper."""
    return render(
        request,
        "audit/checkpoint_list.html",
        {
            "checkpoints": checkpoints.checkpoints_recent(),
            "epoch": checkpoints.current_epoch(),
            "directory": checkpoints.store_dir(),
        },
    )


def _checkpoint_or_404(name: str) -> dict:
    document = checkpoints.checkpoint_find(name)
    if document is None:
        raise Http404(_("没有这个检查点，或其签名不符。"))
    return document


def _downloaded(request, name: str, form: str) -> None:
    audit_record(
        event_type="audit.checkpoint_downloaded",
        actor=request.user,
        object_type="audit.checkpoint",
        object_id=name[:64],
        detail={"format": form},
    )


@role_required(*LOG_READERS)
def checkpoint_json(request, name: str):
    document = _checkpoint_or_404(f"{name}.json")
    _downloaded(request, f"{name}.json", "json")
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-checkpoint-{name}.json"'
    return response


@role_required(*LOG_READERS)
def checkpoint_pdf(request, name: str):
    document = _checkpoint_or_404(f"{name}.json")
    _downloaded(request, f"{name}.json", "pdf")
    pdf = render_pdf(
        "audit/checkpoint_pdf.html",
        {"c": document, "name": f"{name}.json", "printed_by": request.user.display_name},
    )
    return pdf_response(pdf, f"audit-checkpoint-{name}.pdf")
