"""统一社会信用代码 (GB 32100-2015) validation and normalisation.

- 18 characters from the 31-symbol set ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I O S V Z);
  the weight of position i (1..17) is 3^(i-1) mod 31; check = (31 - Σ value×weight mod 31) mod 31.
- A check-digit mismatch is a *warning*, not an error: real codes issued before 2016 in some
  cities fail it, and rejecting them would lock real enterprises out. Such a code is accepted
  only with a recorded override reason (``Enterprise.uscc_override_reason``).
- The legacy 15-digit 注册号 is accepted in the same field where no USCC exists.
"""

from dataclasses import dataclass

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]

# Full-width → half-width for the ASCII range (U+FF01..U+FF5E) and the ideographic space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def to_halfwidth(value: str) -> str:
    """Full-width letters, digits, punctuation and spaces → their ASCII forms."""
    return value.translate(_FULLWIDTH)


def normalise(value) -> str:
    """Trim, full-width → half-width, drop inner spaces, upper-case."""
    if value is None:
        return ""
    text = to_halfwidth(str(value)).strip().upper()
    return "".join(text.split())


def check_char(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class UsccCheck:
    value: str  # normalised
    error: str = ""  # refusal reason (Chinese) — the code cannot be stored
    warning: str = ""  # check digit mismatch — storable only with an override reason
    is_legacy: bool = False  # 15-digit 注册号

    @property
    def ok(self) -> bool:
        return not self.error and not self.warning


def uscc_check(raw) -> UsccCheck:
    """Classify an identifier: valid USCC, legacy 注册号, check-digit warning, or error."""
    value = normalise(raw)
    if not value:
        return UsccCheck(value, error="统一社会信用代码不能为空")
    if len(value) == 15:
        if value.isdigit():
            return UsccCheck(value, is_legacy=True)
        return UsccCheck(value, error="15位注册号只能由数字组成")
    if len(value) != 18:
        return UsccCheck(
            value, error=f"统一社会信用代码应为18位（或15位注册号），实际为{len(value)}位"
        )
    bad = sorted({c for c in value if c not in _VALUE})
    if bad:
        return UsccCheck(
            value, error=f"统一社会信用代码含非法字符：{''.join(bad)}（不得使用 I、O、S、V、Z）"
        )
    expected = check_char(value[:17])
    if value[17] != expected:
        return UsccCheck(
            value,
            warning=f"校验位不符：按GB 32100-2015应为 {expected}，实际为 {value[17]}"
            "（2016年前登记的真实代码可能如此，须填写确认理由）",
        )
    return UsccCheck(value)


def uscc_make(prefix17: str) -> str:
    """Append the check character (demo data, tests, the benchmark generator)."""
    prefix17 = normalise(prefix17)
    return prefix17 + check_char(prefix17)
