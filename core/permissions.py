"""The one way views check roles: ``@role_required(...)``.

Every view carries it (or is explicitly public with ``login_not_required``); object scope is
checked in the view through the app's selectors.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied

from accounts.roles import BUSINESS_READERS, Role

View = TypeVar("View", bound=Callable[..., Any])


def role_required(*roles: str) -> Callable[[View], View]:
    """Allow the request only to users holding one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if not user.is_authenticated or not user.has_role(*allowed):
                raise PermissionDenied("您的角色无权访问此页面。")
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the role tests
        return cast(View, wrapper)

    return decorator


# Common role sets, so that views say what they mean.
READERS = tuple(BUSINESS_READERS)
ALL_ROLES = tuple(Role.values)
