"""Login failures as the probe attacked them (issue 21, finding 9): an administrator locked out
by anyone, names sprayed from one address, name variants, and throttle rows and audit events
growing with every guessed name. Design: docs/security.md, "Login failures"."""

import datetime as dt

import pytest
from django.test import Client

from accounts.forms import INVALID_LOGIN, LOCKED
from accounts.models import LoginAddressThrottle, LoginThrottle
from accounts.roles import Role
from accounts.services import login_throttle_prune, normalise_username
from audit.models import AuditEvent
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
ATTACKER, OFFICE, ELSEWHERE = "10.20.0.66", "10.20.1.5", "10.20.2.9"
BACKOFF = "秒后再试"
BLOCKED = "已暂停登录"


@pytest.fixture
def now(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def _attempt(address, username, password="Wrong-pass-1", **extra):
    response = Client(REMOTE_ADDR=address, **extra).post(
        LOGIN, {"username": username, "password": password}
    )
    return response, response.content.decode()


def _events(event_type) -> int:
    return AuditEvent.objects.filter(event_type=event_type).count()


def test_one_address_cannot_lock_an_administrator_out(now, users):
    """The probe locked every administrator with 5 requests, from anywhere, again and again.
    The account lock now binds the name to the offending address only."""
    admin = users[Role.SECURITY_ADMIN]
    for _ in range(5):
        _attempt(ATTACKER, admin.username)
    _, body = _attempt(ATTACKER, admin.username, PASSWORD)
    assert LOCKED in body  # the attacker's address is locked out of this name, right password too
    lockout = AuditEvent.objects.get(event_type="auth.lockout")
    assert lockout.detail["address"] == ATTACKER and lockout.object_id == str(admin.pk)

    response, _ = _attempt(OFFICE, admin.username, PASSWORD)
    assert response.status_code == 302  # the administrator, at their own desk, gets in
    # ...also while the attacker keeps going (its own address is stopped, not the name).
    for _ in range(30):
        now.shift(dt.timedelta(seconds=31))
        _attempt(ATTACKER, admin.username)
    response, _ = _attempt(ELSEWHERE, admin.username, PASSWORD)
    assert response.status_code == 302


def test_spraying_sixty_names_from_one_address_is_slowed_then_stopped(now, make_user):
    """60 names from one address in 8 s went through unslowed. Beyond LOGIN_FAILURE_LIMIT
    failures in the window the address waits 1, 2, 4 … 30 s between attempts, and at
    LOGIN_ADDRESS_FAILURE_LIMIT (20) it is stopped for the window — right passwords too."""
    real = make_user(Role.INSPECTOR, username="zhangwei")
    names = [f"user{n:02d}" for n in range(60)]
    answers = [_attempt(ATTACKER, name)[1] for name in names]  # all at once
    evaluated = [a for a in answers if INVALID_LOGIN in a]
    assert len(evaluated) == 6  # five free, the sixth starts the wait
    assert all(BACKOFF in a for a in answers if a not in evaluated)
    assert _events("auth.login_failed") == 1  # none of the names exists: one event

    # A patient sprayer that waits out every backoff reaches the limit and is stopped.
    for name in names[6:]:
        gate = LoginAddressThrottle.objects.get(address=ATTACKER)
        if gate.next_attempt_at:
            now.move_to(gate.next_attempt_at, tick=False)
        _, body = _attempt(ATTACKER, name)
        if BLOCKED in body:
            break
    gate = LoginAddressThrottle.objects.get(address=ATTACKER)
    assert gate.failures == 20 and gate.is_blocked()
    assert gate.blocked_until - gate.last_failure_at == dt.timedelta(minutes=15)
    _, body = _attempt(ATTACKER, "zhangwei", PASSWORD)
    assert BLOCKED in body  # not even a right password is checked from there
    assert _events("auth.address_blocked") == 1
    assert _attempt(OFFICE, "zhangwei", PASSWORD)[0].status_code == 302  # others unaffected
    # After the window the address may try again.
    now.move_to(gate.blocked_until + dt.timedelta(seconds=1), tick=False)
    assert _attempt(ATTACKER, real.username, PASSWORD)[0].status_code == 302


def test_a_wait_is_not_counted_as_a_failure(now, make_user):
    make_user(Role.INSPECTOR, username="zhangwei")
    for n in range(6):
        _attempt(ATTACKER, f"ghost{n}")
    before = LoginAddressThrottle.objects.get(address=ATTACKER).failures
    for _ in range(10):
        assert BACKOFF in _attempt(ATTACKER, "zhangwei")[1]
    assert LoginAddressThrottle.objects.get(address=ATTACKER).failures == before
    assert not LoginThrottle.objects.filter(username="zhangwei").exists()


@pytest.mark.parametrize(
    "variants",
    [
        ["ZhangWei", " zhangwei ", "ZHANGWEI", "zhangwei\u3000", "\u3000Zhangwei"],
        [
            "ｚｈａｎｇｗｅｉ",
            "ＺＨＡＮＧＷＥＩ",
            "Ｚｈａｎｇｗｅｉ",
            "zhangwei",
            "ｚｈａｎｇｗｅｉ\u3000",
        ],
    ],
    ids=["case and spaces", "full width"],
)
def test_name_variants_count_as_one_name(now, make_user, variants):
    """Case, full-width letters and full-width spaces each had their own counter (five more
    guesses per variant); now they are folded before counting."""
    make_user(Role.INSPECTOR, username="zhangwei")
    for variant in variants:
        _attempt(ATTACKER, variant)
    assert list(LoginThrottle.objects.values_list("username", "failures")) == [("zhangwei", 5)]
    assert LOCKED in _attempt(ATTACKER, "ｚｈａｎｇｗｅｉ", PASSWORD)[1]
    # The variants are the same account for its owner too.
    assert _attempt(OFFICE, "ＺｈａｎｇＷｅｉ\u3000", PASSWORD)[0].status_code == 302


def test_normalise_username():
    assert normalise_username("\u3000ＺｈａｎｇＷｅｉ ") == "zhangwei"
    assert normalise_username("Straße") == "strasse"


def test_unknown_names_grow_neither_throttle_rows_nor_the_audit_log(now, db):
    """Every failure on a name that does not exist added a throttle row and an audit event.
    Now: no per-name row, one event per address and window, and one summary when the window
    closes."""
    addresses = ["10.30.0.1", "10.30.0.2", "10.30.0.3"]
    for n in range(15):
        for address in addresses:
            _attempt(address, f"nobody-{address}-{n}")
        now.shift(dt.timedelta(seconds=31))  # past every backoff, inside the 15-minute window
    assert LoginThrottle.objects.count() == 0
    assert LoginAddressThrottle.objects.count() == 3
    assert _events("auth.login_failed") == 3
    assert all(
        g.unknown_failures == 15 and len(g.unknown_names) == 15
        for g in LoginAddressThrottle.objects.all()
    )
    now.shift(dt.timedelta(minutes=15))
    _attempt(addresses[0], "one-more")  # opens the next window: the closed one is summarised
    summary = AuditEvent.objects.get(event_type="auth.login_failed_summary")
    assert summary.detail["address"] == addresses[0]
    assert summary.detail["unknown_failures"] == 15 and len(summary.detail["names"]) == 15
    assert summary.source_ip == addresses[0]
    assert _events("auth.login_failed") == 4

    # The daily prune summarises the other two and deletes every finished row; twice is fine.
    now.shift(dt.timedelta(minutes=31))
    assert login_throttle_prune() == {"addresses": 3, "names": 0}
    assert _events("auth.login_failed_summary") == 3
    assert login_throttle_prune() == {"addresses": 0, "names": 0}
    assert LoginAddressThrottle.objects.count() == 0


def test_an_unknown_name_locks_like_a_known_one(now, make_user):
    make_user(Role.INSPECTOR, username="zhangwei")
    known = [_attempt(ATTACKER, "zhangwei")[1] for _ in range(5)]
    unknown = [_attempt(OFFICE, "zhangwie")[1] for _ in range(5)]
    assert [LOCKED in a for a in known] == [LOCKED in a for a in unknown] == [False] * 4 + [True]
    now.shift(dt.timedelta(minutes=29))
    assert LOCKED in _attempt(ATTACKER, "zhangwei")[1]
    assert LOCKED in _attempt(OFFICE, "zhangwie")[1]
    now.shift(dt.timedelta(minutes=2))
    assert INVALID_LOGIN in _attempt(ATTACKER, "zhangwei")[1]
    assert INVALID_LOGIN in _attempt(OFFICE, "zhangwie")[1]


def test_the_address_is_the_client_behind_the_trusted_proxy_only(now, settings, make_user):
    """Behind nginx every request came from 127.0.0.1: the client is the proxy's
    X-Forwarded-For — and only a trusted proxy's, or anyone could pick an address per try."""
    admin = make_user(Role.SECURITY_ADMIN, username="secadmin")
    settings.TRUSTED_PROXY_IPS = ["127.0.0.1"]
    for _ in range(5):
        _attempt("127.0.0.1", "secadmin", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert LoginThrottle.objects.get().address == ATTACKER
    assert AuditEvent.objects.filter(event_type="auth.lockout", source_ip=ATTACKER).exists()
    response, _ = _attempt("127.0.0.1", "secadmin", PASSWORD, HTTP_X_FORWARDED_FOR=OFFICE)
    assert response.status_code == 302 and admin.is_active
    # From an address that is not a trusted proxy the header changes nothing.
    _, body = _attempt(ATTACKER, "secadmin", PASSWORD, HTTP_X_FORWARDED_FOR=OFFICE)
    assert LOCKED in body


def test_a_successful_login_does_not_reset_the_address(now, make_user):
    make_user(Role.INSPECTOR, username="zhangwei")
    for n in range(4):
        _attempt(ATTACKER, f"ghost{n}")
    assert _attempt(ATTACKER, "zhangwei", PASSWORD)[0].status_code == 302
    assert LoginAddressThrottle.objects.get(address=ATTACKER).failures == 4


def test_the_security_admin_sees_locks_and_stopped_addresses(now, users, client_for):
    for n in range(20):
        gate = LoginAddressThrottle.objects.filter(address=ATTACKER).first()
        if gate and gate.next_attempt_at:
            now.move_to(gate.next_attempt_at, tick=False)
        _attempt(ATTACKER, users[Role.AUDIT_ADMIN].username if n < 5 else f"ghost{n}")
    body = client_for(Role.SECURITY_ADMIN).get("/").content.decode()
    assert "当前被锁定的用户名" in body and users[Role.AUDIT_ADMIN].username in body
    assert f"仅对来源 {ATTACKER}" in body
    assert "暂停登录的来源地址" in body and ATTACKER in body
