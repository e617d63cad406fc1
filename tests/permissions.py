"""The permission-matrix helper every view test uses: each role, plus an anonymous outsider,
gets the expected answer for one URL and method."""

from django.test import Client

from accounts.roles import Role


def assert_role_access(
    users, url: str, allowed, *, method: str = "get", data=None, ok_statuses=(200, 302)
) -> None:
    """``allowed`` roles get one of ``ok_statuses``; every other role gets 403; an anonymous
    visitor is sent to the login page."""
    allowed = set(allowed)
    anonymous = getattr(Client(), method)(url, data or {})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], (
        f"anonymous {method.upper()} {url} → {anonymous.status_code}"
    )
    for role in Role:
        client = Client()
        client.force_login(users[role])
        response = getattr(client, method)(url, data or {})
        if role in allowed:
            assert response.status_code in ok_statuses, (
                f"{role} {method.upper()} {url} → {response.status_code}, expected allowed"
            )
        else:
            assert response.status_code == 403, (
                f"{role} {method.upper()} {url} → {response.status_code}, expected 403"
            )
