"""The streamed (bounded-memory) import path: chunks are cleaned, classified and written as the
file is read, yet the outcome equals the whole-file preview and stays all-or-nothing; on
PostgreSQL new rows go through a staging table, and a first load uses bulk-load mode (indexes
and foreign keys dropped and rebuilt inside the transaction)."""

import pytest
from django.db import connection

import core.spreadsheets.preview as spreadsheets_preview
from audit.models import AuditEvent
from core.spreadsheets import run_preview, stream_preview
from enterprises import fastpath
from enterprises.importers import EnterpriseImporter
from enterprises.models import Enterprise
from enterprises.services import ImportRefused, import_apply

from .test_enterprises_factories import code
from .test_enterprises_import import row, xlsx

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL staging / bulk-load path"
)


@pytest.fixture
def ref(db, section, lead_section, other_section):
    from enterprises.demo import seed_reference

    seed_reference()


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 rows, so a 30-row file crosses several chunk boundaries."""
    monkeypatch.setattr(spreadsheets_preview, "STREAM_CHUNK", 7)


def _state():
    through = Enterprise.trades.through.objects
    return (
        Enterprise.objects.count(),
        through.count(),
        AuditEvent.objects.filter(event_type="enterprises.import").count(),
    )


def test_streamed_preview_equals_whole_file_preview(ref, small_chunks):
    import_apply(actor=None, kind="enterprises", source=xlsx([row(i) for i in range(1, 6)]))
    rows = [row(i) for i in range(1, 26)]
    rows[2] = row(3, 法定代表人="王五")  # an update
    rows[10] = row(11, **{"乡镇/街道": "火星"})  # unknown township
    rows[20] = row(5)  # duplicate of row 6 (Excel numbering), across chunks
    rows[24] = row(25, 统一社会信用代码="123")  # bad code in the last chunk
    data = xlsx(rows)
    whole = run_preview(EnterpriseImporter(), data)
    streamed = stream_preview(EnterpriseImporter(), data)
    assert streamed.counts == whole.counts
    assert streamed.counts["updated"] == 1 and streamed.counts["error"] == 3
    assert [(e.row, e.column, e.message) for e in streamed.errors] == [
        (e.row, e.column, e.message) for e in whole.errors
    ]
    assert (22, "统一社会信用代码", f"与第6行重复（{code(5)}）") in [
        (e.row, e.column, e.message) for e in streamed.errors
    ]
    assert not streamed.ok and streamed.error_count == 3


def test_streamed_preview_keeps_bounded_samples_but_counts_everything(ref):
    data = xlsx([row(i, **{"乡镇/街道": "火星", "监管行业": ""}) for i in range(1, 41)])
    preview = stream_preview(EnterpriseImporter(), data, chunk_size=8, keep_rows=5, keep_errors=7)
    assert len(preview.results) == 5 and len(preview.errors) == 7
    assert preview.error_count == 80  # two errors on each of 40 rows
    assert preview.counts["error"] == 40 and preview.counts["total"] == 40


def test_bad_row_in_the_last_chunk_writes_nothing(ref, small_chunks):
    before = _state()
    data = xlsx([row(i) for i in range(1, 30)] + [row(99, 企业名称="")])
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="enterprises", source=data)
    assert _state() == before
    assert [(e.row, e.column, e.message) for e in exc.value.preview.errors] == [
        (31, "企业名称", "企业名称不能为空")
    ]


def test_update_in_an_early_chunk_is_rolled_back_by_a_later_error(ref, small_chunks):
    import_apply(actor=None, kind="enterprises", source=xlsx([row(1)]))
    data = xlsx(
        [row(1, 法定代表人="王五")] + [row(i) for i in range(2, 20)] + [row(20, 规模="巨型")]
    )
    with pytest.raises(ImportRefused) as exc:
        import_apply(actor=None, kind="enterprises", source=data)
    assert Enterprise.objects.get(uscc=code(1)).legal_representative == "张三"
    assert Enterprise.objects.count() == 1
    error = exc.value.preview.errors[0]
    assert (error.row, error.column) == (21, "规模") and "未知的规模" in error.message


def test_streamed_import_writes_every_chunk_with_trades(ref, small_chunks):
    rows = [
        row(i, 监管行业="成品油零售、单用途商业预付卡" if i % 3 else "成品油零售")
        for i in range(1, 31)
    ]
    preview, written = import_apply(actor=None, kind="enterprises", source=xlsx(rows))
    assert written == {"created": 30, "updated": 0}
    assert Enterprise.objects.count() == 30
    assert Enterprise.trades.through.objects.count() == 30 + 20
    assert set(Enterprise.objects.get(uscc=code(3)).trades.values_list("name", flat=True)) == {
        "成品油零售"
    }
    # The same file again: nothing written, no audit event.
    state = _state()
    preview, written = import_apply(actor=None, kind="enterprises", source=xlsx(rows))
    assert written == {"created": 0, "updated": 0} and preview.counts["unchanged"] == 30
    assert _state() == state


def _schema():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            [["enterprises_enterprise", "enterprises_enterprise_trades"]],
        )
        indexes = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1",
            [["enterprises_enterprise", "enterprises_enterprise_trades"]],
        )
        return indexes, cursor.fetchall()


@postgres_only
def test_bulk_load_mode_at_the_end_rebuilds_indexes_and_foreign_keys(ref, monkeypatch):
    """The file's first chunk is not full (30 rows < 5,000): rows are staged, and bulk-load mode
    is decided when they are moved."""
    monkeypatch.setattr(fastpath, "BULK_MIN_ROWS", 10)
    # an empty register by PostgreSQL's statistics (which other tests' ANALYZE may have moved)
    monkeypatch.setattr(fastpath, "_reltuples", lambda cursor: 0)
    used = []
    original = fastpath.pg_insert_staged

    def spy(**kwargs):
        used.append(original(**kwargs))
        return used[-1]

    monkeypatch.setattr(fastpath, "pg_insert_staged", spy)
    schema = _schema()
    assert any("enterprise_name_bigrams" in i for i in schema[0])
    data = xlsx([row(i) for i in range(1, 31)])
    _, written = import_apply(actor=None, kind="enterprises", source=data)
    assert used == [True] and written["created"] == 30
    assert _schema() == schema
    assert Enterprise.trades.through.objects.count() == 30
    _search_finds(30)


def _search_finds(n):
    import datetime as dt

    from enterprises.selectors import enterprise_search

    found = enterprise_search(params={"q": "导入"}, on=dt.date(2026, 1, 1))
    assert found.count() == n


@postgres_only
def test_bulk_load_mode_failure_rolls_back_the_schema_change_too(ref, monkeypatch):
    monkeypatch.setattr(fastpath, "BULK_MIN_ROWS", 10)
    schema = _schema()
    original = fastpath.pg_insert_staged

    def failing(**kwargs):
        original(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(fastpath, "pg_insert_staged", failing)
    with pytest.raises(RuntimeError):
        import_apply(actor=None, kind="enterprises", source=xlsx([row(i) for i in range(1, 31)]))
    assert Enterprise.objects.count() == 0
    assert _schema() == schema


@postgres_only
def test_small_import_into_a_bigger_register_keeps_indexes(ref, monkeypatch):
    monkeypatch.setattr(fastpath, "BULK_MIN_ROWS", 10)
    import_apply(actor=None, kind="enterprises", source=xlsx([row(i) for i in range(1, 31)]))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enterprises_enterprise")
    used = []
    original = fastpath.pg_insert_staged
    monkeypatch.setattr(
        fastpath, "pg_insert_staged", lambda **kw: used.append(original(**kw)) or used[-1]
    )
    _, written = import_apply(
        actor=None, kind="enterprises", source=xlsx([row(i) for i in range(31, 43)])
    )
    assert written["created"] == 12 and used == [False]
    assert Enterprise.objects.count() == 42


def test_backslashes_and_defaults_survive_the_staging_copy(ref):
    rows = [row(1, 企业名称="舞钢市\\N反斜杠\\t有限公司", 备注="C:\\temp\\x", 规模="")]
    rows += [row(i) for i in range(2, 5)]
    import_apply(actor=None, kind="enterprises", source=xlsx(rows))
    first = Enterprise.objects.get(uscc=code(1))
    assert first.name == "舞钢市\\N反斜杠\\t有限公司"
    assert first.remarks == "C:\\temp\\x"
    assert (first.scale, first.enterprise_type, first.status) == ("", "company", "active")
    assert first.section is not None and first.group_name == ""
