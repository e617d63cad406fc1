"""The bell: a user reads and marks only their own notifications."""

from django.urls import reverse

from accounts.roles import Role
from core.models import Notification
from core.services import notification_send


def _notice(user, key="n1") -> Notification:
    notification_send(recipient=user, key=key, title="测试通知", email=False)
    return Notification.objects.get(recipient=user, key=key)


def test_marking_my_notification_read_says_so(client_for, users):
    notice = _notice(users[Role.INSPECTOR])
    response = client_for(Role.INSPECTOR).post(
        reverse("core:notification_read", args=[notice.pk]), follow=True
    )
    assert "已标记为已读" in response.content.decode()
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_marking_another_users_notification_is_refused_and_changes_nothing(client_for, users):
    """The probe got 已标记为已读 for someone else's notification; now the answer is the one for
    a notification that does not exist (404), and the notice stays unread."""
    notice = _notice(users[Role.SECTION_HEAD])
    client = client_for(Role.INSPECTOR)
    response = client.post(reverse("core:notification_read", args=[notice.pk]))
    assert response.status_code == 404
    assert "已标记为已读" not in response.content.decode()
    notice.refresh_from_db()
    assert notice.read_at is None
    missing = client.post(reverse("core:notification_read", args=[notice.pk + 1000]))
    assert missing.status_code == 404


def test_marking_an_already_read_notification_again_is_fine(client_for, users):
    notice = _notice(users[Role.INSPECTOR])
    client = client_for(Role.INSPECTOR)
    url = reverse("core:notification_read", args=[notice.pk])
    client.post(url)
    first = Notification.objects.get(pk=notice.pk).read_at
    assert client.post(url).status_code == 302
    assert Notification.objects.get(pk=notice.pk).read_at == first
