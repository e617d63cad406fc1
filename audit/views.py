from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import Role
from core.permissions import role_required

from .models import AuditEvent
from .services import audit_chain_verify, audit_record

LOG_READERS = (Role.AUDIT_ADMIN, Role.DISCIPLINE)


@role_required(*LOG_READERS)
def event_list(request):
    events = AuditEvent.objects.order_by("-seq")
    event_type = request.GET.get("type", "").strip()
    actor = request.GET.get("actor", "").strip()
    if event_type:
        events = events.filter(event_type__startswith=event_type)
    if actor:
        events = events.filter(actor_name__contains=actor)
    # Keyset-friendly: the sequence is unique and indexed; the paginator's COUNT runs only on
    # filtered queries, the unfiltered page shows the last sequence number instead.
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "page": page,
            "type": event_type,
            "actor": actor,
        },
    )


@require_POST
@role_required(Role.AUDIT_ADMIN)
def chain_verify(request):
    result = audit_chain_verify()
    audit_record(
        event_type="audit.chain_verified",
        actor=request.user,
        outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
        detail={
            "checked": result.checked,
            "broken_seq": result.broken_seq,
            "problem": result.problem,
        },
    )
    if result.ok:
        messages.success(request, f"日志链完整：已核验 {result.checked} 条记录。")
    else:
        messages.error(request, f"日志链在第 {result.broken_seq} 条断开：{result.problem}")
    return redirect("audit:event_list")
