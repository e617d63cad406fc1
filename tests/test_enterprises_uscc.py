"""USCC rules (GB 32100-2015): valid codes, check-digit warning with override, 15-digit 注册号."""

import pytest
from django.core.exceptions import ValidationError

from enterprises.services import enterprise_save, uscc_validate
from enterprises.uscc import check_char, normalise, uscc_check, uscc_make


@pytest.mark.parametrize("code", ["91350200776049653A", "91440101MA5CJQ4N59", "9135021359498494XQ"])
def test_valid_codes(code):
    assert uscc_check(code).ok


def test_real_pre_2016_code_fails_check_digit_as_warning_only():
    check = uscc_check("91350203M0001QKT19")
    assert not check.error and "校验位不符" in check.warning and "F" in check.warning


def test_legacy_registration_number():
    check = uscc_check("410481000012345")
    assert check.ok and check.is_legacy
    assert "数字" in uscc_check("41048100001234A").error


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "不能为空"),
        ("9135020077604965", "应为18位"),
        ("91350200776049653I", "非法字符：I"),
        ("9135020077604965OA", "非法字符：O"),
        ("91350200776049653Z", "非法字符：Z"),
    ],
)
def test_refused(raw, message):
    assert message in uscc_check(raw).error


def test_normalisation_fullwidth_spaces_case():
    assert normalise(" ９１３５０２００ ７７６０４９６５３ａ\u3000") == "91350200776049653A"
    assert uscc_check("９１３５０２００７７６０４９６５３ａ").ok


def test_make_and_check_char():
    code = uscc_make("91410481MA9ABCDE1")
    assert uscc_check(code).ok and code[-1] == check_char(code[:17])


def test_service_requires_override_reason_for_mismatch():
    with pytest.raises(ValidationError) as exc:
        uscc_validate(uscc="91350203M0001QKT19")
    assert "uscc_override_reason" in exc.value.message_dict
    assert (
        uscc_validate(uscc="91350203m0001qkt19", override_reason="登记机关核实")
        == "91350203M0001QKT19"
    )


@pytest.mark.django_db
def test_enterprise_save_with_override_and_unique(users):
    from enterprises.demo import seed_reference
    from enterprises.models import Township, Trade

    seed_reference()
    actor = users["牵头股室"]
    data = {
        "uscc": "91350203M0001QKT19",
        "uscc_override_reason": "2016年前登记",
        "name": "舞钢市老字号商贸有限公司",
        "township": Township.objects.first(),
    }
    e = enterprise_save(actor=actor, data=data, trades=Trade.objects.filter(code="salt"))
    assert e.uscc_override_reason == "2016年前登记"
    with pytest.raises(ValidationError, match="已在名录库中"):
        enterprise_save(actor=actor, data={**data, "uscc": " 91350203m0001qkt19 "}, trades=[])
