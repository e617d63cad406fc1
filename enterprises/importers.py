"""The register's imports: enterprises, tier assessments, licences, check items.

Each is a ``core.spreadsheets.RowImporter``: cleaning is per row (Excel row, column and a
Chinese reason for every error), classification and writing are set-based (chunks of
``CHUNK`` keys; bulk inserts and updates; nothing per row). The preview → confirm flow and
the commands share them; ``enterprises.services.import_apply`` wraps ``apply`` in one
transaction with one audit event.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts.models import Section
from core.spreadsheets import (
    NEW,
    UNCHANGED,
    UPDATED,
    Column,
    Preview,
    Row,
    RowImporter,
    RowResult,
    clean_text,
    parse_date,
    parse_decimal,
)

from . import fastpath
from .group_columns import GROUP_COLUMNS
from .models import (
    CheckItem,
    CheckMethod,
    Enterprise,
    ImportBatch,
    Licence,
    ProfessionalQualification,
    RiskAssessment,
    RiskTier,
    Township,
    Trade,
    group_name_normalise,
)
from .uscc import uscc_check

CHUNK = 5000
_LIST_SPLIT = re.compile(r"\s*[、,，;；/|\n]\s*")


def _text(value) -> str:
    """Reader values are already cleaned strings; anything else (numbers) is cleaned here."""
    return value if type(value) is str else clean_text(value)


def _split(value) -> list[str]:
    return [p for p in _LIST_SPLIT.split(clean_text(value)) if p]


def _choice_lookup(choices) -> dict[str, str]:
    """Label (with or without the code prefix), and code → code."""
    table = {}
    for value, label in choices.choices:
        table[value.lower()] = value
        table[str(label)] = value
        table[str(label).replace("（", "(").replace("）", ")")] = value
        for part in re.split(r"[（()）\s]", str(label)):
            if part:
                table.setdefault(part, value)
    return table


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Lookups:
    """Reference data loaded once per import (names → ids)."""

    def __init__(self):
        self.townships = {t.name: t.pk for t in Township.objects.all()}
        for t in Township.objects.all():
            self.townships.setdefault(t.code, t.pk)
        self.trades = {}
        for trade in Trade.objects.all():
            self.trades[trade.name] = trade.pk
            self.trades.setdefault(trade.code, trade.pk)
        self.sections = {}
        for section in Section.objects.all():
            self.sections[section.name] = section.pk
            self.sections.setdefault(section.code, section.pk)


# --- enterprises ------------------------------------------------------------------------------

ENTERPRISE_COLUMNS = [
    Column(
        "uscc",
        "统一社会信用代码",
        halfwidth=True,
        width=22,
        note="18位统一社会信用代码，或无代码时填15位注册号",
    ),
    Column("name", "企业名称", width=36),
    Column(
        "legal_representative",
        "法定代表人",
        required=False,
        aliases=("负责人", "法定代表人/负责人"),
    ),
    Column("contact_person", "联系人", required=False),
    Column("contact_phone", "联系电话", required=False, halfwidth=True),
    Column("registered_address", "注册地址", required=False, width=36),
    Column("business_address", "经营地址", required=False, width=36),
    Column("township", "乡镇/街道", aliases=("乡镇街道", "乡镇", "街道")),
    Column("trades", "监管行业", width=24, note="多个行业用“、”分隔"),
    Column(
        "enterprise_type",
        "主体类型",
        required=False,
        note="企业、个体工商户、农民专业合作社、其他；空白为企业",
    ),
    Column("scale", "规模", required=False, note="规上、规下、大型、中型、小型、微型，可空"),
    Column(
        "status",
        "登记状态",
        required=False,
        note="存续（在业）、停业、注销、吊销、撤销、迁出；空白为存续",
    ),
    Column("section", "责任股室", required=False),
    Column("remarks", "备注", required=False, width=30),
    Column(
        "uscc_override_reason",
        "校验位不符确认理由",
        required=False,
        width=24,
        note="代码校验位不符但确属真实代码（如2016年前登记）时必填",
    ),
    *GROUP_COLUMNS,  # 所属集团, 集团统一社会信用代码 (optional; last, so older files still fit)
]

_TEXT_FIELDS = (
    "name",
    "legal_representative",
    "contact_person",
    "contact_phone",
    "registered_address",
    "business_address",
    "remarks",
    "uscc_override_reason",
)
_MAX_LENGTH = {f.name: f.max_length for f in Enterprise._meta.concrete_fields if f.max_length}
COMPARED = (
    "name",
    "legal_representative",
    "contact_person",
    "contact_phone",
    "registered_address",
    "business_address",
    "remarks",
    "uscc_override_reason",
    "township_id",
    "enterprise_type",
    "scale",
    "status",
    "section_id",
    "group_name",
    "group_uscc",
)


def _existing_enterprises(keys: list[str], fields: list[str]) -> dict[str, dict]:
    """{uscc: {id, uscc, *fields}} of the registered ones among ``keys`` (one query)."""
    if connection.vendor != "postgresql":
        rows = Enterprise.objects.filter(uscc__in=keys).values("id", "uscc", *fields)
        return {row["uscc"]: row for row in rows}
    # One array parameter instead of 5,000 placeholders (psycopg binds on the client side and
    # would parse every one of them).
    columns = ["id", "uscc", *fields]  # attnames equal the column names here
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Enterprise._meta.db_table} "  # noqa: S608 - model names
            "WHERE uscc = ANY(%s)",
            [keys],
        )
        return {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def _trades_of(ids: list[int]) -> list[tuple[int, int]]:
    through = Enterprise.trades.through
    if not ids:
        return []
    if connection.vendor != "postgresql":
        return list(
            through.objects.filter(enterprise_id__in=ids).values_list("enterprise_id", "trade_id")
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT enterprise_id, trade_id FROM {through._meta.db_table} "  # noqa: S608
            "WHERE enterprise_id = ANY(%s)",
            [ids],
        )
        return cursor.fetchall()


class EnterpriseImporter(RowImporter):
    kind = "enterprises"
    title = ImportBatch.KIND_TITLES[kind]
    columns = ENTERPRISE_COLUMNS
    key_column = "uscc"

    def __init__(self):
        self.lookups = _Lookups()
        self.types = _choice_lookup(Enterprise.EnterpriseType)
        self.scales = _choice_lookup(Enterprise.Scale)
        self.statuses = _choice_lookup(Enterprise.Status)
        self.statuses.update({"存续": "active", "在业": "active", "开业": "active"})
        self.present: set[str] = set()

    def clean_row(self, row: Row, result: RowResult) -> None:
        values = row.values
        if not values.keys() <= self.present:  # every row of a file has the same keys
            self.present |= values.keys()
        header = self.header_of
        cleaned: dict = {}
        check = uscc_check(values.get("uscc"))
        override = _text(values.get("uscc_override_reason"))
        if check.error:
            result.error(header("uscc"), check.error)
        elif check.warning and not override:
            result.error(header("uscc"), check.warning)
        elif check.warning:
            result.warnings.append(check.warning)
        result.key = cleaned["uscc"] = check.value
        for name in _TEXT_FIELDS:
            if name in values:
                text = _text(values[name])
                if len(text) > _MAX_LENGTH.get(name, 10**6):
                    result.error(header(name), f"超过{_MAX_LENGTH[name]}字")
                cleaned[name] = text
        if not cleaned.get("name"):
            result.error(header("name"), "企业名称不能为空")
        if check.warning is None or not check.warning:
            cleaned["uscc_override_reason"] = ""
        township = _text(values.get("township"))
        if not township:
            result.error(header("township"), "乡镇/街道不能为空")
        elif township not in self.lookups.townships:
            result.error(header("township"), f"未知的乡镇/街道：{township}")
        else:
            cleaned["township_id"] = self.lookups.townships[township]
        trade_names = _split(values.get("trades"))
        if not trade_names:
            result.error(header("trades"), "监管行业不能为空")
        unknown = [t for t in trade_names if t not in self.lookups.trades]
        if unknown:
            result.error(header("trades"), "未知的监管行业：" + "、".join(unknown))
        cleaned["trades"] = frozenset(
            self.lookups.trades[t] for t in trade_names if t not in unknown
        )
        for name, table, default, label in (
            ("enterprise_type", self.types, Enterprise.EnterpriseType.COMPANY, "主体类型"),
            ("scale", self.scales, "", "规模"),
            ("status", self.statuses, Enterprise.Status.ACTIVE, "登记状态"),
        ):
            if name not in values:
                continue
            text = _text(values[name])
            if not text:
                cleaned[name] = default
            elif text in table or text.lower() in table:
                cleaned[name] = table.get(text) or table[text.lower()]
            else:
                result.error(header(name), f"未知的{label}：{text}")
        if "section" in values:
            text = _text(values["section"])
            if text and text not in self.lookups.sections:
                result.error(header("section"), f"未知的股室：{text}")
            cleaned["section_id"] = self.lookups.sections.get(text) if text else None
        if "group_name" in values:
            cleaned["group_name"] = group_name_normalise(_text(values["group_name"]))
            if len(cleaned["group_name"]) > _MAX_LENGTH["group_name"]:
                result.error(header("group_name"), f"超过{_MAX_LENGTH['group_name']}字")
        if "group_uscc" in values:
            group = uscc_check(values["group_uscc"]) if values["group_uscc"] else None
            cleaned["group_uscc"] = group.value if group else ""
            if group and group.error:
                result.error(header("group_uscc"), group.error)
            elif group and not cleaned.get("group_name"):
                result.error(header("group_uscc"), "填写集团统一社会信用代码时须填写所属集团名称")
        result.cleaned = cleaned

    def classify(self, results: list[RowResult]) -> None:
        by_key = {r.key: r for r in results}
        fields = [f for f in COMPARED if f in self.present or f.removesuffix("_id") in self.present]
        self.compared = fields
        for keys in _chunks(list(by_key)):
            existing = _existing_enterprises(keys, fields)
            trades: dict[int, set] = {}
            for eid, tid in _trades_of([e["id"] for e in existing.values()]):
                trades.setdefault(eid, set()).add(tid)
            for key in keys:
                result = by_key[key]
                current = existing.get(key)
                if current is None:
                    result.outcome = NEW
                    continue
                result.cleaned["id"] = current["id"]
                changes = {
                    f: [current[f], result.cleaned[f]]
                    for f in fields
                    if f in result.cleaned and current[f] != result.cleaned[f]
                }
                old_trades = trades.get(current["id"], set())
                if set(result.cleaned["trades"]) != old_trades:
                    changes["trades"] = [sorted(old_trades), sorted(result.cleaned["trades"])]
                result.changes = changes
                result.outcome = UPDATED if changes else UNCHANGED

    def apply(self, preview: Preview, *, actor) -> dict:
        writer = self.writer(actor=actor)
        writer(preview.results)
        return writer.finish()

    def writer(self, *, actor) -> EnterpriseWriter:
        """A chunk writer for ``core.spreadsheets.stream_preview(on_chunk=…)``."""
        return EnterpriseWriter(now=timezone.now())


class EnterpriseWriter:
    """Writes classified chunks of an enterprise import inside the caller's transaction.

    New rows: PostgreSQL — COPYed into a staging table chunk by chunk and moved into the
    register by ``finish`` (``fastpath``: set-based, in uscc order, bulk-load mode for first
    loads); SQLite — ``bulk_create`` per chunk. Updated rows: ``bulk_update`` of only the
    changed columns, per chunk. The caller rolls everything back if any row has an error."""

    def __init__(self, *, now):
        self.now = now
        self.created = 0
        self.updated = 0
        self.staged = False
        self.bulk_load = False
        self.postgres = connection.vendor == "postgresql"

    def __call__(self, results: list[RowResult]) -> None:
        new = [r.cleaned for r in results if r.outcome == NEW and not r.errors]
        updated = [r for r in results if r.outcome == UPDATED and not r.errors]
        if new:
            if self.postgres:
                fastpath.pg_stage(new, created=self.staged)
                self.staged = True
            else:
                self._insert(new)
        if updated:
            self._update(updated)
        self.created += len(new)
        self.updated += len(updated)

    def finish(self) -> dict:
        if self.staged:
            self.bulk_load = fastpath.pg_insert_staged(now=self.now, count=self.created)
            self.staged = False
        return {"created": self.created, "updated": self.updated}

    def _insert(self, new: list[dict]) -> None:
        through = Enterprise.trades.through
        now = self.now
        for chunk in _chunks(new, 2000):
            objs = [
                Enterprise(
                    **{k: v for k, v in c.items() if k not in ("trades", "id")},
                    created_at=now,
                    updated_at=now,
                )
                for c in chunk
            ]
            Enterprise.objects.bulk_create(objs)
            ids = dict(
                Enterprise.objects.filter(uscc__in=[c["uscc"] for c in chunk]).values_list(
                    "uscc", "id"
                )
            )
            through.objects.bulk_create(
                [
                    through(enterprise_id=ids[c["uscc"]], trade_id=t)
                    for c in chunk
                    for t in sorted(c["trades"])
                ]
            )

    def _update(self, updated: list[RowResult]) -> None:
        through = Enterprise.trades.through
        now = self.now
        changed_fields = sorted({f for r in updated for f in r.changes if f != "trades"})
        for chunk in _chunks(updated, 1000):
            if changed_fields:
                objs = []
                for r in chunk:
                    obj = Enterprise(pk=r.cleaned["id"], updated_at=now)
                    for f in changed_fields:
                        setattr(obj, f, r.cleaned.get(f))
                    objs.append(obj)
                # Only fields present in the file reach ``changed_fields``; rows that did not
                # change a field carry their current value (it is in ``cleaned``).
                Enterprise.objects.bulk_update(objs, [*changed_fields, "updated_at"])
            retrade = [r for r in chunk if "trades" in r.changes]
            if retrade:
                through.objects.filter(
                    enterprise_id__in=[r.cleaned["id"] for r in retrade]
                ).delete()
                through.objects.bulk_create(
                    [
                        through(enterprise_id=r.cleaned["id"], trade_id=t)
                        for r in retrade
                        for t in sorted(r.cleaned["trades"])
                    ]
                )


# --- tier assessments -------------------------------------------------------------------------

TIER_COLUMNS = [
    Column("uscc", "统一社会信用代码", halfwidth=True, width=22),
    Column("tier", "风险等级", halfwidth=True, note="A、B、C、D（或 低、中、中高、高）"),
    Column("effective_date", "生效日期", halfwidth=True, is_date=True, note="如 2026-01-31"),
    Column("source", "来源", width=28, note="如 国家“互联网+监管”系统推送、股室评定"),
    Column("reason", "理由", required=False, width=30),
]
_TIER_WORDS = {
    "低": "A",
    "低风险": "A",
    "中": "B",
    "中风险": "B",
    "中高": "C",
    "中高风险": "C",
    "高": "D",
    "高风险": "D",
}


def _uscc_ids(keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "id"))
    return found


class TierImporter(RowImporter):
    kind = "tiers"
    title = ImportBatch.KIND_TITLES[kind]
    columns = TIER_COLUMNS
    key_column = ""

    def __init__(self):
        self.tiers = {t.value: t.value for t in RiskTier} | _TIER_WORDS
        for t in RiskTier:
            self.tiers[str(t.label)] = t.value
            self.tiers[str(t.label).replace(" ", "")] = t.value

    def clean_row(self, row: Row, result: RowResult) -> None:
        v, h = row.values, self.header_of
        check = uscc_check(v.get("uscc"))
        if check.error:
            result.error(h("uscc"), check.error)
        tier_text = clean_text(v.get("tier")).upper()
        tier = self.tiers.get(tier_text) or self.tiers.get(clean_text(v.get("tier")))
        if not tier:
            result.error(
                h("tier"),
                f"未知的风险等级：{clean_text(v.get('tier')) or '（空）'}（应为 A、B、C、D）",
            )
        try:
            effective = parse_date(v.get("effective_date"))
            if effective is None:
                result.error(h("effective_date"), "生效日期不能为空")
        except ValueError as exc:
            effective = None
            result.error(h("effective_date"), str(exc))
        source = clean_text(v.get("source"))
        if not source:
            result.error(h("source"), "来源不能为空")
        result.cleaned = {
            "uscc": check.value,
            "tier": tier,
            "effective_date": effective,
            "source": source[:100],
            "reason": clean_text(v.get("reason"))[:255],
        }
        if effective:
            result.key = f"{check.value} {effective.isoformat()} {source}"

    def classify(self, results: list[RowResult]) -> None:
        ids = _uscc_ids(sorted({r.cleaned["uscc"] for r in results}))
        existing = {}
        for chunk in _chunks(list(ids.values())):
            for a in RiskAssessment.objects.filter(enterprise_id__in=chunk).values(
                "id", "enterprise_id", "effective_date", "source", "tier", "reason"
            ):
                existing[(a["enterprise_id"], a["effective_date"], a["source"])] = a
        for r in results:
            eid = ids.get(r.cleaned["uscc"])
            if eid is None:
                r.error(
                    self.header_of("uscc"),
                    f"名录库中没有该企业：{r.cleaned['uscc']}（请先导入企业）",
                )
                continue
            r.cleaned["enterprise_id"] = eid
            current = existing.get((eid, r.cleaned["effective_date"], r.cleaned["source"]))
            if current is None:
                r.outcome = NEW
            elif (current["tier"], current["reason"]) == (r.cleaned["tier"], r.cleaned["reason"]):
                r.outcome = UNCHANGED
            else:
                r.cleaned["id"] = current["id"]
                r.changes = {
                    "tier": [current["tier"], r.cleaned["tier"]],
                    "reason": [current["reason"], r.cleaned["reason"]],
                }
                r.outcome = UPDATED

    def apply(self, preview: Preview, *, actor) -> dict:
        fields = ("enterprise_id", "tier", "effective_date", "source", "reason")
        new = [r.cleaned for r in preview.results if r.outcome == NEW]
        RiskAssessment.objects.bulk_create(
            [RiskAssessment(entered_by=actor, **{f: c[f] for f in fields}) for c in new],
            batch_size=2000,
        )
        updated = [r.cleaned for r in preview.results if r.outcome == UPDATED]
        RiskAssessment.objects.bulk_update(
            [
                RiskAssessment(pk=c["id"], tier=c["tier"], reason=c["reason"], entered_by=actor)
                for c in updated
            ],
            ["tier", "reason", "entered_by"],
            batch_size=1000,
        )
        return {"created": len(new), "updated": len(updated)}


# --- licences ---------------------------------------------------------------------------------

LICENCE_COLUMNS = [
    Column("uscc", "统一社会信用代码", halfwidth=True, width=22),
    Column("licence_type", "许可证名称", width=24, note="如 成品油零售经营批准证书"),
    Column("number", "证号", halfwidth=True, width=22),
    Column("issued_on", "发证日期", required=False, halfwidth=True, is_date=True),
    Column("expires_on", "有效期至", required=False, halfwidth=True, is_date=True),
    Column("issuer", "发证机关", required=False, width=24),
]


class LicenceImporter(RowImporter):
    kind = "licences"
    title = ImportBatch.KIND_TITLES[kind]
    columns = LICENCE_COLUMNS
    key_column = "number"

    def clean_row(self, row: Row, result: RowResult) -> None:
        v, h = row.values, self.header_of
        check = uscc_check(v.get("uscc"))
        if check.error:
            result.error(h("uscc"), check.error)
        cleaned: dict[str, Any] = {"uscc": check.value}
        for name, label in (("licence_type", "许可证名称"), ("number", "证号")):
            cleaned[name] = clean_text(v.get(name))[:100]
            if not cleaned[name]:
                result.error(h(name), f"{label}不能为空")
        for name in ("issued_on", "expires_on"):
            try:
                cleaned[name] = parse_date(v.get(name))
            except ValueError as exc:
                result.error(h(name), str(exc))
        if (
            cleaned.get("issued_on")
            and cleaned.get("expires_on")
            and cleaned["expires_on"] < cleaned["issued_on"]
        ):
            result.error(h("expires_on"), "有效期至早于发证日期")
        cleaned["issuer"] = clean_text(v.get("issuer"))[:100]
        result.cleaned = cleaned
        result.key = f"{cleaned['licence_type']} {cleaned['number']}"

    def classify(self, results: list[RowResult]) -> None:
        ids = _uscc_ids(sorted({r.cleaned["uscc"] for r in results}))
        existing = {}
        for chunk in _chunks(list({r.cleaned["number"] for r in results})):
            for lic in Licence.objects.filter(number__in=chunk).values(
                "id", "enterprise_id", "licence_type", "number", "issued_on", "expires_on", "issuer"
            ):
                existing[(lic["licence_type"], lic["number"])] = lic
        for r in results:
            c = r.cleaned
            eid = ids.get(c["uscc"])
            if eid is None:
                r.error(self.header_of("uscc"), f"名录库中没有该企业：{c['uscc']}（请先导入企业）")
                continue
            c["enterprise_id"] = eid
            current = existing.get((c["licence_type"], c["number"]))
            if current is None:
                r.outcome = NEW
                continue
            if current["enterprise_id"] != eid:
                r.error(self.header_of("number"), "该证号已登记在另一企业名下")
                continue
            c["id"] = current["id"]
            r.changes = {
                f: [current[f], c[f]]
                for f in ("issued_on", "expires_on", "issuer")
                if current[f] != c[f]
            }
            r.outcome = UPDATED if r.changes else UNCHANGED

    def apply(self, preview: Preview, *, actor) -> dict:
        fields = ("enterprise_id", "licence_type", "number", "issued_on", "expires_on", "issuer")
        new = [r.cleaned for r in preview.results if r.outcome == NEW]
        Licence.objects.bulk_create(
            [Licence(**{f: c[f] for f in fields}) for c in new], batch_size=2000
        )
        updated = [r.cleaned for r in preview.results if r.outcome == UPDATED]
        Licence.objects.bulk_update(
            [Licence(pk=c["id"], **{f: c[f] for f in fields}) for c in updated],
            ["issued_on", "expires_on", "issuer"],
            batch_size=1000,
        )
        return {"created": len(new), "updated": len(updated)}


# --- check items ------------------------------------------------------------------------------

CHECK_ITEM_COLUMNS = [
    Column("code", "事项编码", halfwidth=True),
    Column("name", "事项名称", width=30),
    Column("sub_items", "抽查子项", required=False, width=30),
    Column("legal_basis", "抽查依据", width=40),
    Column("inspecting_body", "抽查主体", required=False, width=24),
    Column("object_scope", "抽查对象", required=False, width=30),
    Column("trades", "适用行业", width=24, note="多个行业用“、”分隔"),
    Column("licence_types", "适用许可证类型", required=False, width=24),
    Column("content", "检查内容", required=False, width=40),
    Column("key_points", "检查要点", required=False, width=40),
    Column(
        "methods",
        "检查方式",
        width=24,
        note="实地核查、书面检查、网络监测、委托专业机构、采用其他部门检查结果",
    ),
    Column("default_ratio", "默认抽查比例", required=False, halfwidth=True, note="如 3% 或 0.03"),
    Column("frequency", "抽查频次", required=False),
    Column("required_qualification", "所需专业资质", required=False),
    Column("section", "责任股室"),
    Column("status", "状态", required=False, note="有效、失效；空白为有效"),
]


class CheckItemImporter(RowImporter):
    kind = "check_items"
    title = ImportBatch.KIND_TITLES[kind]
    columns = CHECK_ITEM_COLUMNS
    key_column = "code"

    def __init__(self):
        self.lookups = _Lookups()
        self.methods = {str(label): value for value, label in CheckMethod.choices}
        self.qualifications = {
            str(label): value for value, label in ProfessionalQualification.choices
        }
        self.statuses = {"有效": "valid", "失效": "invalid", "": "valid"}

    def clean_row(self, row: Row, result: RowResult) -> None:
        v, h = row.values, self.header_of
        c: dict = {}
        for name in (
            "code",
            "name",
            "sub_items",
            "legal_basis",
            "inspecting_body",
            "object_scope",
            "content",
            "key_points",
            "frequency",
        ):
            if name in v:
                c[name] = clean_text(v[name])
        for name, label in (
            ("code", "事项编码"),
            ("name", "事项名称"),
            ("legal_basis", "抽查依据"),
        ):
            if not c.get(name):
                result.error(h(name), f"{label}不能为空")
        if "inspecting_body" in c and not c["inspecting_body"]:
            c["inspecting_body"] = "舞钢市工业信息化和商务局"
        trades = _split(v.get("trades"))
        unknown = [t for t in trades if t not in self.lookups.trades]
        if not trades:
            result.error(h("trades"), "适用行业不能为空")
        if unknown:
            result.error(h("trades"), "未知的监管行业：" + "、".join(unknown))
        c["trades"] = frozenset(self.lookups.trades[t] for t in trades if t not in unknown)
        if "licence_types" in v:
            c["licence_types"] = _split(v["licence_types"])
        methods = _split(v.get("methods"))
        bad = [m for m in methods if m not in self.methods]
        if not methods:
            result.error(h("methods"), "检查方式不能为空")
        if bad:
            result.error(h("methods"), "未知的检查方式：" + "、".join(bad))
        c["methods"] = [self.methods[m] for m in methods if m in self.methods]
        if "default_ratio" in v:
            try:
                ratio = parse_decimal(v["default_ratio"])
                if ratio is not None and not (Decimal(0) < ratio <= 1):
                    result.error(h("default_ratio"), "比例应在 0 到 100% 之间")
                c["default_ratio"] = (
                    ratio.quantize(Decimal("0.0001")) if ratio is not None else None
                )
            except ValueError as exc:
                result.error(h("default_ratio"), str(exc))
        if "required_qualification" in v:
            text = clean_text(v["required_qualification"])
            if text and text not in self.qualifications:
                result.error(h("required_qualification"), f"未知的专业资质：{text}")
            c["required_qualification"] = self.qualifications.get(text, "")
        section = clean_text(v.get("section"))
        if section not in self.lookups.sections:
            result.error(h("section"), f"未知的股室：{section or '（空）'}")
        c["section_id"] = self.lookups.sections.get(section)
        if "status" in v:
            text = clean_text(v["status"])
            if text not in self.statuses:
                result.error(h("status"), f"未知的状态：{text}（应为 有效 或 失效）")
            c["status"] = self.statuses.get(text, "valid")
        result.cleaned = c
        result.key = c.get("code", "")

    def classify(self, results: list[RowResult]) -> None:
        items = {
            i.code: i
            for i in CheckItem.objects.filter(code__in=[r.key for r in results]).prefetch_related(
                "trades"
            )
        }
        for r in results:
            item = items.get(r.key)
            if item is None:
                r.outcome = NEW
                continue
            r.cleaned["id"] = item.pk
            changes: dict[str, list] = {}
            for name, value in r.cleaned.items():
                if name in ("id", "trades"):
                    continue
                current = getattr(item, name)
                if current != value:
                    changes[name] = [str(current), str(value)]
            old = {t.pk for t in item.trades.all()}
            if old != set(r.cleaned["trades"]):
                changes["trades"] = [sorted(old), sorted(r.cleaned["trades"])]
            r.changes = changes
            r.outcome = UPDATED if changes else UNCHANGED

    def apply(self, preview: Preview, *, actor) -> dict:
        counts = {"created": 0, "updated": 0}
        for r in preview.results:
            if r.outcome not in (NEW, UPDATED):
                continue
            c = dict(r.cleaned)
            trades = c.pop("trades")
            item = CheckItem.objects.get(pk=c.pop("id")) if r.outcome == UPDATED else CheckItem()
            for name, value in c.items():
                setattr(item, name, value)
            if r.outcome == UPDATED:
                item.version += 1
            item.full_clean(exclude=["trades"])
            item.save()
            item.trades.set(trades)
            counts["created" if r.outcome == NEW else "updated"] += 1
        return counts


IMPORTERS: dict[str, type[RowImporter]] = {
    cls.kind: cls for cls in (EnterpriseImporter, TierImporter, LicenceImporter, CheckItemImporter)
}
