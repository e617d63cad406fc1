"""Password policy as documented (issue 21, finding 9): the probe's accepted passwords are
refused with a Chinese reason, and a new password cannot be one of the last five."""

import itertools

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.demo import DEMO_PASSWORD
from accounts.models import PasswordHistory, User
from accounts.roles import Role
from accounts.validators import password_words


def _reasons(password, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.fixture
def zhangwei(make_user, section):
    return make_user(
        Role.INSPECTOR,
        section=section,
        username="zhangwei",
        full_name="张伟",
        email="zhangwei@example.cn",
        mobile="13800001234",
    )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Password1", "密码过于常见"),
        ("P@ssw0rd", "密码过于常见"),
        ("Admin@123", "密码过于常见"),
        ("Wugang2026", "密码过于常见"),  # the bureau's name and a year
        ("Wugang@2026", "密码过于常见"),  # the former demo password: the same with a symbol
        ("        Aa1", "密码首尾不能是空格"),  # eight spaces met the length and class rules
        ("Aa1        ", "密码首尾不能是空格"),
        ("Aa1!!!!!bc", "连续相同的字符"),
        ("Zhangwei#2026", "用户名"),  # username-derived
        ("Zhangwei#2026abcdef", "用户名"),  # long enough to pass the similarity ratio alone
        ("Zh@ngw3i-2026x", "用户名"),  # with look-alike characters
        ("Iewgnahz-2026x", "用户名"),  # reversed
        ("Ｚｈａｎｇｗｅｉ#2026", "用户名"),  # full-width
        ("13800001234Xy!", "手机号"),
    ],
)
def test_the_probes_passwords_are_refused_with_a_chinese_reason(zhangwei, password, reason):
    reasons = _reasons(password, zhangwei)
    assert any(reason in r for r in reasons), reasons


@pytest.mark.parametrize(
    "password", ["Horse-Battery-7", "Kfjdmq1!", "Brand-new-2026", "Qingshan#lu88"]
)
def test_ordinary_strong_passwords_pass(zhangwei, password):
    assert _reasons(password, zhangwei) == []


def test_the_documented_demo_password_meets_the_policy(make_user):
    for username in ("lead", "sysadmin", "secadmin", "auditadmin", "wg021"):
        user = make_user(username=username)
        assert _reasons(DEMO_PASSWORD, user) == [], username


def test_the_word_a_password_is_built_on():
    assert {"psswrd", "password"} <= password_words("P@ssw0rd!2")
    assert "admin" in password_words("Admin@123")


def test_the_reasons_are_translated_to_english(zhangwei):
    with translation.override("en"):
        reasons = _reasons("Password1", zhangwei) + _reasons("Zhangwei#2026abc", zhangwei)
    assert reasons and all(r.isascii() for r in reasons), reasons


REUSED = "不能使用最近 5 次用过的密码。"
FIRST = "Qingshan#lu88"  # a password the other rules accept, so only reuse can refuse it


def _change(client, old, new):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def _field_errors(response) -> list[str]:
    return response.context["form"].errors.get("new_password1", [])


def test_switching_back_to_the_previous_password_is_refused(make_user, section):
    """The probe changed its password and at once changed it back; now the last five are kept
    (hashes only) and none of them is accepted again. The account was made by create_user,
    which never calls set_password: its first password is remembered at the first change."""
    user = make_user(Role.INSPECTOR, section=section, username="lisi")
    user.password = make_password(FIRST)
    user.save(update_fields=["password"])
    client = Client()
    client.force_login(user)
    assert _change(client, FIRST, "Brand-new-2026").status_code == 302
    response = _change(client, "Brand-new-2026", FIRST)
    assert response.status_code == 200
    assert _field_errors(response) == [REUSED]
    user.refresh_from_db()
    assert user.check_password("Brand-new-2026")


def test_the_sixth_password_back_may_be_used_again_and_the_history_stays_bounded(zhangwei):
    zhangwei.set_password(FIRST)
    zhangwei.save()
    client = Client()
    client.force_login(zhangwei)
    passwords = [FIRST] + [f"Kfjdmq-{n}x!" for n in range(1, 6)]
    for old, new in itertools.pairwise(passwords):
        assert _change(client, old, new).status_code == 302, new
    for recent in passwords[1:]:
        assert REUSED in _reasons(recent, User.objects.get(pk=zhangwei.pk)), recent
    # FIRST is six passwords back now: allowed again.
    response = _change(client, passwords[-1], FIRST)
    assert response.status_code == 302, _field_errors(response)
    assert PasswordHistory.objects.filter(user=zhangwei).count() == 5
    assert all(
        h.startswith(("md5$", "pbkdf2_sha256$"))
        for h in PasswordHistory.objects.values_list("password", flat=True)
    )


def test_a_password_set_outside_the_form_is_remembered_too(zhangwei):
    for password in (FIRST, "Brand-new-2026"):
        zhangwei.set_password(password)
        zhangwei.save()
    assert REUSED in _reasons(FIRST, zhangwei)
    assert REUSED in _reasons("Brand-new-2026", zhangwei)
