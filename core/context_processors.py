from django.urls import reverse

from .extensions import nav_items


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user.role_names()
    items = [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "active": request.path.startswith(reverse(item.url_name))
            and reverse(item.url_name) != "/",
        }
        for item in nav_items()
        if roles & item.roles
    ]
    unread = user.notifications.filter(read_at=None).count()
    return {"nav_items": items, "user_roles": sorted(roles), "unread_notifications": unread}
