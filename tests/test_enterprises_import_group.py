"""The group columns (所属集团, 集团统一社会信用代码) in the enterprise import and export: optional,
normalised, validated with row/column/Chinese reason, and round-tripped by the export."""

import io

import openpyxl
import pytest

from enterprises.exports import enterprise_export
from enterprises.importers import ENTERPRISE_COLUMNS
from enterprises.models import Enterprise
from enterprises.services import ImportRefused, import_apply

from .test_enterprises_factories import code
from .test_enterprises_import import HEADERS, row, xlsx

GROUP = "所属集团"
GROUP_USCC = "集团统一社会信用代码"


@pytest.fixture
def ref(db, section, lead_section, other_section):
    from enterprises.demo import seed_reference

    seed_reference()


def test_template_headers_end_with_the_optional_group_columns():
    columns = {c.header: c for c in ENTERPRISE_COLUMNS}
    assert HEADERS[-2:] == [GROUP, GROUP_USCC]
    assert not columns[GROUP].required and not columns[GROUP_USCC].required


def test_group_imported_normalised_then_unchanged_then_updated(ref):
    data = xlsx([row(1, **{GROUP: "  平煤神马　集团 ", GROUP_USCC: code(900)}), row(2)])
    _, written = import_apply(actor=None, kind="enterprises", source=data)
    assert written == {"created": 2, "updated": 0}
    first = Enterprise.objects.get(uscc=code(1))
    assert (first.group_name, first.group_uscc) == ("平煤神马 集团", code(900))
    assert Enterprise.objects.get(uscc=code(2)).group_name == ""

    preview, written = import_apply(actor=None, kind="enterprises", source=data)
    assert written == {"created": 0, "updated": 0} and preview.counts["unchanged"] == 2

    changed = xlsx([row(1, **{GROUP: "舞钢公司"}), row(2)])
    preview, written = import_apply(actor=None, kind="enterprises", source=changed)
    assert written == {"created": 0, "updated": 1}
    first.refresh_from_db()
    assert (first.group_name, first.group_uscc) == ("舞钢公司", "")


def test_bad_group_code_and_code_without_name_are_row_errors(ref):
    data = xlsx(
        [
            row(1, **{GROUP: "舞钢公司", GROUP_USCC: "12345"}),
            row(2, **{GROUP_USCC: code(901)}),
        ]
    )
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="enterprises", source=data)
    errors = {(e.row, e.column): e.message for e in exc.value.preview.errors}
    assert set(errors) == {(2, GROUP_USCC), (3, GROUP_USCC)}
    assert "应为18位" in errors[(2, GROUP_USCC)]
    assert errors[(3, GROUP_USCC)] == "填写集团统一社会信用代码时须填写所属集团名称"
    assert Enterprise.objects.count() == 0


def test_export_carries_the_group_and_re_imports_unchanged(ref):
    import_apply(
        actor=None,
        kind="enterprises",
        source=xlsx([row(1, **{GROUP: "舞钢公司", GROUP_USCC: code(900)})]),
    )
    buffer = io.BytesIO()
    enterprise_export(Enterprise.objects.all(), buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    header, values = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    assert dict(zip(header, values, strict=True))[GROUP] == "舞钢公司"
    preview, written = import_apply(actor=None, kind="enterprises", source=buffer.getvalue())
    assert written == {"created": 0, "updated": 0} and preview.counts["unchanged"] == 1
