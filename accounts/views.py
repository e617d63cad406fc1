from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from audit.selectors import audit_events_for_object
from core.params import param_text
from core.permissions import ALL_ROLES, role_required

from .forms import LoginForm, PasswordChangeForm, RoleForm, SectionForm, UserForm
from .middleware import IDLE_KEY, IDLE_REASON, idle_remaining, session_activity_skip
from .models import Section, User
from .roles import ADMIN_ROLES, Role
from .services import (
    section_save,
    user_change_password,
    user_create,
    user_reset_password,
    user_set_roles,
    user_update,
)

USER_ADMINS = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)


@login_not_required
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(
            next_url, {request.get_host()}, require_https=request.is_secure()
        ):
            next_url = "core:dashboard"
        return redirect(next_url)
    return render(
        request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")}
    )


@login_not_required  # the idle warning may post it after the server ended the session
@require_POST
def logout_view(request):
    idle = request.POST.get("reason") == "idle"
    if idle:
        request.logout_reason = f"{IDLE_REASON}（页面提示后退出）"
    logout(request)
    if not idle:
        return redirect("accounts:login")
    messages.info(request, _("因长时间没有操作，您已退出登录。本页尚未保存的输入已暂存在本机。"))
    next_url = request.POST.get("next", "")
    login_url = reverse("accounts:login")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        login_url += "?" + urlencode({"next": next_url})
    return redirect(login_url)


@role_required(*ALL_ROLES)
def session_status(request):
    """How long until the idle logout, for the page's warning. Asking is not activity; the
    warning's 继续使用 button (``?touch=1``) is."""
    if request.GET.get("touch") == "1":
        request.session[IDLE_KEY] = timezone.now().timestamp()
    else:
        session_activity_skip(request)
    return JsonResponse({"idle_remaining": idle_remaining(request)})


@sensitive_post_parameters()
@role_required(*ALL_ROLES)
def password_change(request):
    form = PasswordChangeForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, "密码已修改。")
        return redirect("core:dashboard")
    return render(request, "accounts/password_change.html", {"form": form})


# --- User administration: the system admin keeps users; the security admin grants roles -------
@role_required(*USER_ADMINS)
def user_list(request):
    users = User.objects.select_related("section").prefetch_related("groups").order_by("username")
    query = param_text(request.GET, "q")
    if query:
        users = users.filter(full_name__contains=query) | users.filter(username__contains=query)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page, "q": query})


@role_required(Role.SYSTEM_ADMIN)
def user_add(request):
    form = UserForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user, password = user_create(
            actor=request.user,
            username=data["username"],
            full_name=data["full_name"],
            section=data["section"],
            mobile=data["mobile"],
            email=data["email"],
        )
        return render(
            request, "accounts/password_issued.html", {"target": user, "password": password}
        )
    return render(request, "accounts/user_form.html", {"form": form})


@role_required(*USER_ADMINS)
def user_detail(request, user_id: int):
    target = get_object_or_404(User.objects.select_related("section"), pk=user_id)
    history = None
    if request.user.has_role(Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN):
        history = audit_events_for_object(obj=target).exclude(
            event_type__in=["auth.login", "auth.logout", "auth.login_failed"]
        )[:50]
    roles = target.role_names()
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "roles": sorted(roles),
            "history": history,
            "target_is_admin": bool(roles & ADMIN_ROLES),
        },
    )


@role_required(Role.SYSTEM_ADMIN)
def user_edit(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    form = UserForm(data=request.POST or None, instance=User.objects.get(pk=user_id))
    if request.method == "POST" and form.is_valid():
        data = {
            k: form.cleaned_data[k]
            for k in ("full_name", "section", "mobile", "email", "is_active")
        }
        try:
            user_update(actor=request.user, user=target, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "用户信息已保存。")
            return redirect("accounts:user_detail", user_id=target.pk)
    return render(request, "accounts/user_form.html", {"form": form, "target": target})


@role_required(Role.SECURITY_ADMIN)
def user_roles(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    form = RoleForm(data=request.POST or None, initial={"roles": sorted(target.role_names())})
    if request.method == "POST" and form.is_valid():
        try:
            user_set_roles(
                actor=request.user,
                user=target,
                roles=form.cleaned_data["roles"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "角色已更新。")
            return redirect("accounts:user_detail", user_id=target.pk)
    return render(request, "accounts/user_roles.html", {"form": form, "target": target})


@require_POST
@role_required(Role.SECURITY_ADMIN)
def user_password_reset(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    try:
        password = user_reset_password(actor=request.user, user=target)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("accounts:user_detail", user_id=target.pk)
    return render(
        request,
        "accounts/password_issued.html",
        {"target": target, "password": password, "reset": True},
    )


@role_required(*USER_ADMINS)
def section_list(request):
    sections = Section.objects.order_by("code")
    return render(request, "accounts/section_list.html", {"sections": sections})


@role_required(Role.SYSTEM_ADMIN)
def section_edit(request, section_id: int | None = None):
    section = get_object_or_404(Section, pk=section_id) if section_id else Section()
    form = SectionForm(data=request.POST or None, instance=section)
    if request.method == "POST" and form.is_valid():
        section_save(actor=request.user, section=form.instance)
        messages.success(request, "股室已保存。")
        return redirect("accounts:section_list")
    return render(request, "accounts/section_form.html", {"form": form, "section": section})
