from typing import Any

from django.conf import settings
from django.urls import reverse

from .extensions import nav_items


def navigation(request: Any) -> dict[str, Any]:  # request.user: a User (core cannot import it)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user.role_names()
    items: list[dict[str, Any]] = [
        {"label": item.label, "url": reverse(item.url_name), "active": False}
        for item in nav_items()
        if roles & item.roles
    ]
    # Highlight only the entry whose URL is the longest prefix of the current path, so that
    # /enterprises/import/ marks 导入名录 and not also 检查对象名录库.
    matches = [i for i in items if i["url"] != "/" and request.path.startswith(i["url"])]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    elif request.path == "/" and items:
        items[0]["active"] = items[0]["url"] == "/"
    unread = user.notifications.filter(read_at=None).count()
    return {
        "nav_items": items,
        "user_roles": sorted(roles),
        "unread_notifications": unread,
        # The idle warning (static/js/app.js): a page view is activity, so the full time is left.
        "idle_seconds": settings.SESSION_COOKIE_AGE,
        "idle_warning_seconds": settings.SESSION_IDLE_WARNING_SECONDS,
    }
