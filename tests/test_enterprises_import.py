"""Enterprise import: every bad input of issue 3 is refused with row/column/Chinese reason and
nothing is written; good files upsert by USCC; an unchanged file writes nothing."""

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from enterprises.exports import enterprise_export
from enterprises.importers import ENTERPRISE_COLUMNS
from enterprises.models import CheckItem, Enterprise, Licence, RiskAssessment
from enterprises.services import ImportRefused, import_apply

from .test_enterprises_factories import code, make_enterprises

HEADERS = [c.header for c in ENTERPRISE_COLUMNS]


def row(n, **over):
    values = {
        "统一社会信用代码": code(n),
        "企业名称": f"舞钢市导入{n}有限公司",
        "法定代表人": "张三",
        "联系人": "李四",
        "联系电话": "13800000000",
        "注册地址": "舞钢市垭口街道钢城路1号",
        "经营地址": "舞钢市垭口街道钢城路1号",
        "乡镇/街道": "垭口街道",
        "监管行业": "成品油零售",
        "主体类型": "企业",
        "规模": "小型",
        "登记状态": "存续（在业）",
        "责任股室": "市场运行股",
        "备注": "",
        "校验位不符确认理由": "",
    }
    values.update(over)
    return [values.get(h) for h in HEADERS]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def ref(db, section, lead_section, other_section):
    from enterprises.demo import seed_reference

    seed_reference()


def refused(data) -> list:
    before = (Enterprise.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="enterprises", source=data, filename="t.xlsx")
    assert (Enterprise.objects.count(), AuditEvent.objects.count()) == before, "nothing written"
    return exc.value.preview.errors


def only_error(data):
    errors = refused(data)
    assert len(errors) == 1, errors
    return errors[0]


# --- bad inputs, one test each -----------------------------------------------------------------


def test_missing_header(ref):
    headers = [h for h in HEADERS if h != "乡镇/街道"]
    error = only_error(xlsx([], headers=headers))
    assert error.row == 1 and "缺少表头列：乡镇/街道" in error.message


def test_renamed_header(ref):
    headers = ["单位名称" if h == "企业名称" else h for h in HEADERS]
    error = only_error(xlsx([row(1)], headers=headers))
    assert "缺少表头列：企业名称" in error.message and "单位名称" in error.message


def test_empty_file(ref):
    assert "文件为空" in only_error(b"").message


def test_header_only(ref):
    assert "没有数据行" in only_error(xlsx([])).message


def test_not_a_spreadsheet(ref):
    assert "不是 Excel" in only_error(b"%PDF-1.4 not a sheet\x00\x01").message


def test_encrypted_xlsx(ref):
    import msoffcrypto.format.ooxml as ooxml

    out = io.BytesIO()
    ooxml.OOXMLFile(io.BytesIO(xlsx([row(1)]))).encrypt("pw", out)
    assert "已加密" in only_error(out.getvalue()).message


def test_second_sheet_only(ref):
    wb = openpyxl.Workbook()
    other = wb.create_sheet("企业名录")
    other.append(HEADERS)
    other.append(row(1))
    buf = io.BytesIO()
    wb.save(buf)
    assert "第一个工作表" in only_error(buf.getvalue()).message


def test_blank_rows_in_the_middle_are_skipped(ref):
    _, written = import_apply(
        actor=None, kind="enterprises", source=xlsx([row(1), [None] * len(HEADERS), row(2)])
    )
    assert written == {"created": 2, "updated": 0}


def test_duplicate_uscc_in_file(ref):
    error = only_error(xlsx([row(1), row(2), row(1)]))
    assert (error.row, error.column) == (4, "统一社会信用代码") and "与第2行重复" in error.message


def test_invalid_uscc(ref):
    error = only_error(xlsx([row(1), row(2, 统一社会信用代码="91410481MA0000001I")]))
    assert (error.row, error.column) == (3, "统一社会信用代码") and "非法字符" in error.message


def test_check_digit_mismatch_needs_reason_then_accepted(ref):
    error = only_error(xlsx([row(1, 统一社会信用代码="91350203M0001QKT19")]))
    assert "校验位不符" in error.message
    import_apply(
        actor=None,
        kind="enterprises",
        source=xlsx(
            [row(1, 统一社会信用代码="91350203M0001QKT19", 校验位不符确认理由="2016年前登记")]
        ),
    )
    assert Enterprise.objects.get(uscc="91350203M0001QKT19").uscc_override_reason == "2016年前登记"


def test_legacy_15_digit_registration_number(ref):
    import_apply(
        actor=None, kind="enterprises", source=xlsx([row(1, 统一社会信用代码="410481000012345")])
    )
    assert Enterprise.objects.filter(uscc="410481000012345").exists()


def test_unknown_township(ref):
    error = only_error(xlsx([row(1, **{"乡镇/街道": "舞阳镇"})]))
    assert (error.row, error.column, error.message) == (2, "乡镇/街道", "未知的乡镇/街道：舞阳镇")


def test_unknown_trade(ref):
    error = only_error(xlsx([row(1, 监管行业="成品油零售、烟草")]))
    assert error.column == "监管行业" and "烟草" in error.message


def test_unknown_status(ref):
    error = only_error(xlsx([row(1, 登记状态="歇业中")]))
    assert error.column == "登记状态" and "未知的登记状态" in error.message


def test_fullwidth_and_stray_spaces_normalised(ref):
    fullwidth = code(7).translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})
    import_apply(
        actor=None,
        kind="enterprises",
        source=xlsx(
            [
                row(
                    7,
                    统一社会信用代码=f" {fullwidth}\u3000",
                    企业名称="  舞钢市（全角）公司 ",
                    联系电话="１３８００００００００",
                )
            ]
        ),
    )
    e = Enterprise.objects.get(uscc=code(7))
    assert (e.name, e.contact_phone) == ("舞钢市（全角）公司", "13800000000")


def test_over_size_cap(ref):
    data = xlsx([row(1)])
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="enterprises", source=data, max_bytes=len(data) - 1)
    assert "文件过大" in exc.value.preview.errors[0].message
    assert not Enterprise.objects.exists()


def test_zip_bomb(ref):
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx([row(1)]))) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for info in src.infolist():
            z.writestr(info, src.read(info))
        z.writestr("xl/media/bomb.bin", b"\0" * (30 * 1024 * 1024))
    assert "压缩炸弹" in only_error(buf.getvalue()).message


def test_formula_cell(ref):
    data = xlsx([row(1), row(2, 备注='=HYPERLINK("http://evil.example","点击")')])
    error = only_error(data)
    assert (error.row, error.column) == (3, "备注") and "公式" in error.message


def test_million_row_used_range_imports_real_rows(ref):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(row(1))
    ws.cell(row=1_048_576, column=len(HEADERS)).number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    _, written = import_apply(actor=None, kind="enterprises", source=buf.getvalue())
    assert written["created"] == 1


def test_gbk_csv(ref):
    import csv

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    writer.writerow(row(3))
    import_apply(actor=None, kind="enterprises", source=text.getvalue().encode("gbk"))
    assert Enterprise.objects.get(uscc=code(3)).name == "舞钢市导入3有限公司"


def test_all_or_nothing_one_bad_row_writes_nothing(ref):
    errors = refused(xlsx([row(i) for i in range(1, 50)] + [row(99, 企业名称="")]))
    assert [(e.row, e.column) for e in errors] == [(51, "企业名称")]


def test_every_error_listed(ref):
    errors = refused(xlsx([row(1, 乡镇街道="x", 监管行业=""), row(2, 统一社会信用代码="123")]))
    assert {(e.row, e.column) for e in errors} == {(2, "监管行业"), (3, "统一社会信用代码")}


# --- upsert, unchanged, audit ----------------------------------------------------------------


def test_upsert_by_uscc_and_unchanged_file_writes_nothing(ref):
    preview, written = import_apply(actor=None, kind="enterprises", source=xlsx([row(1), row(2)]))
    assert written == {"created": 2, "updated": 0}
    assert AuditEvent.objects.filter(event_type="enterprises.import").count() == 1
    event = AuditEvent.objects.get(event_type="enterprises.import")
    assert event.detail["sha256"] == preview.sha256 and event.detail["counts"]["new"] == 2

    data = xlsx(
        [row(1, 法定代表人="王五", 监管行业="成品油零售、单用途商业预付卡"), row(2), row(3)]
    )
    preview, written = import_apply(actor=None, kind="enterprises", source=data)
    assert (
        preview.counts["updated"] == 1
        and preview.counts["unchanged"] == 1
        and preview.counts["new"] == 1
    )
    e = Enterprise.objects.get(uscc=code(1))
    assert e.legal_representative == "王五"
    assert sorted(e.trades.values_list("name", flat=True)) == ["单用途商业预付卡", "成品油零售"]

    stamp = Enterprise.objects.get(uscc=code(1)).updated_at
    events = AuditEvent.objects.count()
    preview, written = import_apply(actor=None, kind="enterprises", source=data)
    assert written == {"created": 0, "updated": 0} and preview.counts["unchanged"] == 3
    assert AuditEvent.objects.count() == events
    assert Enterprise.objects.get(uscc=code(1)).updated_at == stamp


def test_missing_optional_columns_keep_existing_values(ref):
    import_apply(actor=None, kind="enterprises", source=xlsx([row(1)]))
    minimal = ["统一社会信用代码", "企业名称", "乡镇/街道", "监管行业"]
    data = xlsx([[code(1), "舞钢市导入1有限公司", "垭口街道", "成品油零售"]], headers=minimal)
    preview, _ = import_apply(actor=None, kind="enterprises", source=data)
    assert preview.counts["unchanged"] == 1
    assert Enterprise.objects.get(uscc=code(1)).legal_representative == "张三"


# --- export round trip -----------------------------------------------------------------------


def test_export_round_trip_is_lossless(ref, tmp_path):
    tricky = ["=SUM(A1)", "+86 375", "-", "@home", "'=quoted", "（全角）"]
    for e, text in zip(make_enterprises(len(tricky)), tricky, strict=True):
        Enterprise.objects.filter(pk=e.pk).update(
            remarks=text, contact_person=text, name=text + "公司"
        )
    path = tmp_path / "export.xlsx"
    assert enterprise_export(Enterprise.objects.all(), path) == len(tricky)
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == HEADERS
    assert all(
        not str(c.value).startswith(("=", "+", "-", "@"))
        for r in sheet.iter_rows(min_row=2)
        for c in r
        if c.value
    )
    preview, written = import_apply(actor=None, kind="enterprises", source=path)
    assert preview.counts["unchanged"] == len(tricky) and written == {"created": 0, "updated": 0}
    assert sorted(Enterprise.objects.values_list("remarks", flat=True)) == sorted(tricky)
    assert sorted(Enterprise.objects.values_list("contact_person", flat=True)) == sorted(tricky)


# --- commands ---------------------------------------------------------------------------------


def test_import_command_dry_run_and_errors(ref, tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([row(1)]))
    call_command("import_enterprises", str(good), "--dry-run")
    assert "新增 1" in capsys.readouterr().out and not Enterprise.objects.exists()
    call_command("import_enterprises", str(good))
    assert Enterprise.objects.count() == 1
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([row(2, **{"乡镇/街道": "火星"})]))
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import_enterprises", str(bad))
    assert "第2行 “乡镇/街道”列：未知的乡镇/街道：火星" in capsys.readouterr().err
    with pytest.raises(CommandError, match="无法打开"):
        call_command("import_enterprises", str(tmp_path / "missing.xlsx"))


def test_export_command(ref, tmp_path, capsys):
    make_enterprises(2)
    call_command("export_enterprises", str(tmp_path / "out.xlsx"))
    assert "已导出 2 家企业" in capsys.readouterr().out
    with pytest.raises(CommandError, match=r"\.xlsx"):
        call_command("export_enterprises", str(tmp_path / "out.csv"))


# --- tiers, licences, check items ---------------------------------------------------------------


def test_tier_import_text_and_serial_dates_and_history(ref, tmp_path):
    make_enterprises(2)
    data = xlsx(
        [
            [code(0), "A", "2025-01-01", "股室评定", ""],
            [code(0), "高", 46023, "国家“互联网+监管”系统推送", "投诉较多"],
            [code(1), "C", "2026年2月1日", "股室评定", ""],
        ],
        headers=["统一社会信用代码", "风险等级", "生效日期", "来源", "理由"],
    )
    path = tmp_path / "tiers.xlsx"
    path.write_bytes(data)
    call_command("import_tier_assessments", str(path))
    tiers = list(
        RiskAssessment.objects.order_by("effective_date").values_list("tier", "effective_date")
    )
    assert tiers == [
        ("A", dt.date(2025, 1, 1)),
        ("D", dt.date(2026, 1, 1)),
        ("C", dt.date(2026, 2, 1)),
    ]
    preview, written = import_apply(actor=None, kind="tiers", source=data)
    assert written == {"created": 0, "updated": 0} and preview.counts["unchanged"] == 3


def test_tier_import_refuses_unknown_tier_and_enterprise(ref):
    make_enterprises(1)
    data = xlsx(
        [[code(0), "E", "2025-01-01", "x", ""], [code(5), "A", "2025-01-01", "x", ""]],
        headers=["统一社会信用代码", "风险等级", "生效日期", "来源", "理由"],
    )
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="tiers", source=data)
    messages = {(e.row, e.column): e.message for e in exc.value.preview.errors}
    assert "未知的风险等级" in messages[(2, "风险等级")]
    assert "名录库中没有该企业" in messages[(3, "统一社会信用代码")]
    assert not RiskAssessment.objects.exists()


def test_licence_import(ref):
    make_enterprises(1)
    headers = ["统一社会信用代码", "许可证名称", "证号", "发证日期", "有效期至", "发证机关"]
    data = xlsx(
        [
            [
                code(0),
                "成品油零售经营批准证书",
                "油零售证书第001号",
                "2022/3/1",
                47000,
                "平顶山市商务局",
            ]
        ],
        headers=headers,
    )
    import_apply(actor=None, kind="licences", source=data)
    lic = Licence.objects.get()
    assert lic.issued_on == dt.date(2022, 3, 1) and lic.expires_on.year == 2028
    bad = xlsx(
        [[code(0), "成品油零售经营批准证书", "X1", "2024-01-01", "2023-01-01", ""]], headers=headers
    )
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="licences", source=bad)
    assert exc.value.preview.errors[0].message == "有效期至早于发证日期"


def test_check_item_import_and_version(ref, tmp_path):
    from enterprises.importers import CHECK_ITEM_COLUMNS

    headers = [c.header for c in CHECK_ITEM_COLUMNS]

    def item(**over):
        values = {
            "事项编码": "WG-T-001",
            "事项名称": "测试事项",
            "抽查依据": "《测试办法》",
            "适用行业": "拍卖",
            "检查方式": "实地核查、书面检查",
            "默认抽查比例": "3%",
            "责任股室": "商贸服务股",
            "状态": "有效",
        }
        values.update(over)
        return [values.get(h) for h in headers]

    path = tmp_path / "items.xlsx"
    path.write_bytes(xlsx([item()], headers=headers))
    call_command("import_check_items", str(path))
    obj = CheckItem.objects.get(code="WG-T-001")
    assert (
        obj.methods == ["onsite", "written"]
        and str(obj.default_ratio) == "0.0300"
        and obj.version == 1
    )
    import_apply(
        actor=None, kind="check_items", source=xlsx([item(检查要点="新要点")], headers=headers)
    )
    obj.refresh_from_db()
    assert obj.version == 2 and obj.key_points == "新要点"
    with pytest.raises(ImportRefused) as exc:
        import_apply(
            actor=None,
            kind="check_items",
            source=xlsx([item(检查方式="电话抽查")], headers=headers),
        )
    assert "未知的检查方式" in exc.value.preview.errors[0].message
