"""Password rules (等保2.0 身份鉴别: complexity, no guessable or reused passwords).

Each validator gives its reason in Chinese (English through the catalogue) and is listed in
``AUTH_PASSWORD_VALIDATORS``; the form shows every reason that applies at once."""

import re
import string
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import password_validation as django_validation
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What people write for letters when a rule asks for digits and symbols: P@ssw0rd is password.
LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)
# Words of this bureau and of every system's admins that make a password guessable whatever
# digits and symbols are added to them (Wugang2026, Admin@123); the common list has no pinyin.
LOCAL_WORDS = frozenset(
    {
        "wugang",
        "wugangshi",
        "pingdingshan",
        "henan",
        "gongxin",
        "gongxinju",
        "shangwu",
        "shangwuju",
        "shuangsuiji",
        "admin",
        "administrator",
        "root",
        "password",
        "passwd",
        "mima",
    }
)


def _plain(text: str) -> str:
    """Full-width folded to ASCII, case folded (Ａｄｍｉｎ is admin)."""
    return unicodedata.normalize("NFKC", text).casefold()


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


def password_words(password: str) -> set[str]:
    """The word a password is built on: its letters, read as written and read back from
    look-alike digits and symbols, with or without what is added around it (``P@ssw0rd!2`` →
    ``psswrd``, ``password``)."""
    plain = _plain(password)
    core = plain.strip(string.digits + string.punctuation + string.whitespace)
    variants = (plain, plain.translate(LEET), core.translate(LEET))
    return {w for w in map(_letters, variants) if w}


class CharacterClassValidator:
    """At least ``min_classes`` of: lower case, upper case, digits, other symbols (等保2.0)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def _classes(self, password: str) -> int:
        return sum(
            (
                any(c in string.ascii_lowercase for c in password),
                any(c in string.ascii_uppercase for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )

    def validate(self, password: str, user: Any = None) -> None:
        if self._classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须包含小写字母、大写字母、数字、符号中的至少 %(n)d 类。"),
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _("密码须包含小写字母、大写字母、数字、符号中的至少 %(n)d 类。") % {
            "n": self.min_classes
        }


class PasswordShapeValidator:
    """Length and classes can be met by padding: eight spaces plus ``Aa1`` passed both. No space
    at either end (invisible, and lost by many forms) and no character four times in a row."""

    def validate(self, password: str, user: Any = None) -> None:
        if password != password.strip():
            raise ValidationError(_("密码首尾不能是空格。"), code="password_edge_space")
        if re.search(r"(.)\1{3}", password):
            raise ValidationError(
                _("密码不能含有 4 个或以上连续相同的字符。"), code="password_repeated"
            )

    def get_help_text(self) -> str:
        return _("首尾不能是空格，不能有 4 个或以上连续相同的字符。")


class CommonPasswordValidator(django_validation.CommonPasswordValidator):
    """Django's list of 20,000 common passwords, applied also to the word a password is built
    on, so that a common word or this bureau's name with digits and symbols added is refused
    (``Password1``, ``P@ssw0rd``, ``Admin@123``, ``Wugang2026``)."""

    def validate(self, password: str, user: Any = None) -> None:
        plain = _plain(password).strip()
        candidates = {plain, plain.translate(LEET), *password_words(password)}
        if candidates & self.passwords or candidates & LOCAL_WORDS:
            raise ValidationError(self.get_error_message(), code="password_too_common")

    def get_error_message(self) -> str:
        return _("密码过于常见：常用密码、常用单词或本单位名称加上数字、符号都容易被猜中。")

    def get_help_text(self) -> str:
        return _("不能是常用密码，也不能由常用单词或本单位名称加数字、符号组成。")


class UserAttributeSimilarityValidator(django_validation.UserAttributeSimilarityValidator):
    """Django's similarity test on the user's name, full name, e-mail and mobile, plus: the
    password may not contain the user name (also reversed or with look-alike characters), which
    the similarity ratio misses once enough is appended (``Zhangwei#2026abc``)."""

    DEFAULT_USER_ATTRIBUTES = ("username", "full_name", "email", "mobile")

    def __init__(
        self, user_attributes: Sequence[str] = DEFAULT_USER_ATTRIBUTES, max_similarity: float = 0.7
    ) -> None:
        super().__init__(user_attributes=user_attributes, max_similarity=max_similarity)

    def validate(self, password: str, user: Any = None) -> None:
        if not user:
            return
        name = "".join(c for c in _plain(getattr(user, "username", "") or "") if c.isalnum())
        if len(name) >= 3:
            plain = _plain(password)
            for variant in (plain, plain.translate(LEET)):
                compact = "".join(c for c in variant if c.isalnum())
                if name in compact or name[::-1] in compact:
                    raise ValidationError(
                        _("密码不能包含用户名。"), code="password_contains_username"
                    )
        super().validate(password, user)

    def get_error_message(self) -> str:
        return _("密码与%(verbose_name)s过于相似。")

    def get_help_text(self) -> str:
        return _("不能包含用户名，不能与姓名、电子邮箱、手机号相似。")


class PasswordHistoryValidator:
    """A new password may not be any of the account's last ``count`` passwords (the current
    one included). Their hashes are kept in ``PasswordHistory``, written here whenever a
    password is set (``password_changed`` runs on every save of a new password)."""

    def __init__(self, count: int = 5) -> None:
        self.count = count

    def _recent(self, user: Any) -> list[str]:
        from .models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-id")
            .values_list("password", flat=True)[: self.count]
        )
        if user.password and user.password not in hashes:
            hashes.insert(0, user.password)  # accounts older than the history
        return hashes[: self.count]

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        if any(check_password(password, encoded) for encoded in self._recent(user)):
            raise ValidationError(
                _("不能使用最近 %(n)d 次用过的密码。"),
                code="password_reused",
                params={"n": self.count},
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or not user.password:
            return
        self.remember(user)

    def remember(self, user: Any) -> None:
        """Add the account's current hash to its history (once) and keep the last ``count``.
        Also called before a change: an account created with ``create_user`` or
        ``createsuperuser`` never went through ``set_password``, so its first password would
        otherwise be forgotten at the first change."""
        from .models import PasswordHistory

        if not user.password or not user.has_usable_password():
            return
        latest = PasswordHistory.objects.filter(user=user).order_by("-id").first()
        if latest is None or latest.password != user.password:
            PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).order_by("-id")[self.count :]
        PasswordHistory.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()

    def get_help_text(self) -> str:
        return _("不能使用最近 %(n)d 次用过的密码。") % {"n": self.count}


def password_history_remember(user: Any) -> None:
    """Record the account's current password hash before it is replaced (see
    ``PasswordHistoryValidator.remember``); nothing when the validator is not configured."""
    for validator in django_validation.get_default_password_validators():
        if isinstance(validator, PasswordHistoryValidator):
            validator.remember(user)
