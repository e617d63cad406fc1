"""Roster import / export through xlsx with Chinese headers, on ``core.spreadsheets``.

One row per inspector, keyed by 人员编号. Status (休假/停职/…) is not imported: status changes
are dated events entered on the inspector's page. A row may carry one certificate; a
certificate already on file (same type and number) is updated, a new one is added.
"""

import io

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import Section, User
from audit.services import audit_record
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
    write_xlsx,
)
from enterprises.models import CheckItem, ProfessionalQualification, Trade

from . import crypto
from .models import Certificate, Inspector, StatusPeriod
from .selectors import status_on

YES, NO = {"是", "Y", "y", "yes", "1", "√", "true"}, {"否", "N", "n", "no", "0", "", "false"}

COLUMNS = [
    Column("staff_number", "人员编号", halfwidth=True, note="唯一；抽取按人员编号排序"),
    Column("name", "姓名"),
    Column("id_number", "身份证号", required=False, halfwidth=True, width=22,
           note="18位，校验位须正确；加密保存"),
    Column("section", "股室", note="股室名称或代码"),
    Column("mobile", "手机号", required=False, halfwidth=True),
    Column("position", "职务", required=False),
    Column("joined_on", "从事执法工作日期", required=False, is_date=True, halfwidth=True),
    Column("trades", "可检查行业", required=False, width=30, note="行业名称或代码，用、分隔"),
    Column("check_items", "可检查事项", required=False, width=30, note="事项编码，用、分隔"),
    Column("qualifications", "专业资质", required=False, width=24,
           note="、".join(ProfessionalQualification.labels)),
    Column("is_expert", "业务专家", required=False, note="是/否"),
    Column("can_lead", "可任组长", required=False, note="是/否"),
    Column("max_checks_per_task", "单任务检查上限", required=False, halfwidth=True,
           note="留空用系统默认"),
    Column("max_checks_per_year", "年度检查上限", required=False, halfwidth=True,
           note="留空用系统默认"),
    Column("cert_type", "执法证类型", required=False, note="默认 河南省行政执法证"),
    Column("cert_number", "执法证号", required=False, halfwidth=True),
    Column("cert_issued_on", "发证日期", required=False, is_date=True, halfwidth=True),
    Column("cert_expires_on", "有效期至", required=False, is_date=True, halfwidth=True),
    Column("cert_issuer", "发证机关", required=False),
    Column("username", "登录账户", required=False, halfwidth=True, note="系统用户名，可空"),
    Column("remarks", "备注", required=False),
]  # fmt: skip
EXPORT_ONLY = ["今日状态"]

COMPARED = [
    "name", "id_number", "section_id", "mobile", "position", "joined_on", "trades",
    "check_items", "professional_qualifications", "is_expert", "can_lead",
    "max_checks_per_task", "max_checks_per_year", "user_id", "remarks", "certificate",
]  # fmt: skip


def _split(value) -> list[str]:
    text = clean_text(value)
    for sep in ("，", ",", "；", ";", "/", " "):
        text = text.replace(sep, "、")
    return [t for t in (p.strip() for p in text.split("、")) if t]


class InspectorImporter(RowImporter):
    kind = "inspectors"
    title = "执法检查人员"
    columns = COLUMNS
    key_column = "staff_number"

    def __init__(self):
        self.sections = {}
        for pk, code, name in Section.objects.values_list("pk", "code", "name"):
            self.sections[code] = self.sections[name] = pk
        self.trades = {}
        for pk, code, name in Trade.objects.values_list("pk", "code", "name"):
            self.trades[code] = self.trades[name] = pk
        self.items = dict(CheckItem.objects.values_list("code", "pk"))
        self.users = dict(User.objects.values_list("username", "pk"))
        self.quals = {label: code for code, label in ProfessionalQualification.choices}
        self.quals.update({code: code for code in ProfessionalQualification.values})

    def _flag(self, result, values, key) -> bool:
        text = clean_text(values.get(key))
        if text in YES:
            return True
        if text not in NO:
            result.error(self.header_of(key), f"应填“是”或“否”，不是“{text}”")
        return False

    def _limit(self, result, values, key):
        text = clean_text(values.get(key), halfwidth=True)
        if not text:
            return None
        if not text.isdigit() or not 0 < int(text) < 10000:
            result.error(self.header_of(key), f"应为正整数：{text}")
            return None
        return int(text)

    def _date(self, result, values, key):
        try:
            return parse_date(values.get(key))
        except ValueError as exc:
            result.error(self.header_of(key), str(exc))
            return None

    def clean_row(self, row: Row, result: RowResult) -> None:
        values, header = row.values, self.header_of
        cleaned: dict = {}
        staff = clean_text(values.get("staff_number"), halfwidth=True).upper()
        if not staff:
            result.error(header("staff_number"), "人员编号不能为空")
        elif len(staff) > 32:
            result.error(header("staff_number"), "超过32字符")
        result.key = cleaned["staff_number"] = staff
        cleaned["name"] = clean_text(values.get("name"))
        if not cleaned["name"]:
            result.error(header("name"), "姓名不能为空")
        id_number = clean_text(values.get("id_number"), halfwidth=True).upper()
        if id_number and not crypto.id_number_is_valid(id_number):
            result.error(header("id_number"), "身份证号格式或校验位不正确")
        cleaned["id_number"] = id_number
        section = clean_text(values.get("section"))
        if section not in self.sections:
            result.error(header("section"), f"未知的股室：{section}" if section else "股室不能为空")
        cleaned["section_id"] = self.sections.get(section)
        for key, limit in (("mobile", 20), ("position", 64), ("remarks", 10_000)):
            cleaned[key] = clean_text(values.get(key))
            if len(cleaned[key]) > limit:
                result.error(header(key), f"超过{limit}字")
        cleaned["joined_on"] = self._date(result, values, "joined_on")
        for key, table, label in (
            ("trades", self.trades, "行业"),
            ("check_items", self.items, "检查事项"),
        ):
            names = _split(values.get(key))
            unknown = [n for n in names if n not in table]
            if unknown:
                result.error(header(key), f"未知的{label}：" + "、".join(unknown))
            cleaned[key] = sorted({table[n] for n in names if n in table})
        quals = _split(values.get("qualifications"))
        unknown = [q for q in quals if q not in self.quals]
        if unknown:
            result.error(header("qualifications"), "未知的专业资质：" + "、".join(unknown))
        cleaned["professional_qualifications"] = sorted(
            {self.quals[q] for q in quals if q in self.quals}
        )
        cleaned["is_expert"] = self._flag(result, values, "is_expert")
        cleaned["can_lead"] = self._flag(result, values, "can_lead")
        cleaned["max_checks_per_task"] = self._limit(result, values, "max_checks_per_task")
        cleaned["max_checks_per_year"] = self._limit(result, values, "max_checks_per_year")
        username = clean_text(values.get("username"), halfwidth=True).lower()
        if username and username not in self.users:
            result.error(header("username"), f"系统中没有用户：{username}")
        cleaned["user_id"] = self.users.get(username) if username else None
        number = clean_text(values.get("cert_number"), halfwidth=True)
        issued = self._date(result, values, "cert_issued_on")
        expires = self._date(result, values, "cert_expires_on")
        if number:
            if not issued:
                result.error(header("cert_issued_on"), "填写执法证号时必须填写发证日期")
            if not expires:
                result.error(header("cert_expires_on"), "填写执法证号时必须填写有效期")
            if issued and expires and expires < issued:
                result.error(header("cert_expires_on"), "有效期早于发证日期")
            cleaned["certificate"] = {
                "cert_type": clean_text(values.get("cert_type")) or "河南省行政执法证",
                "number": number,
                "issued_on": issued,
                "expires_on": expires,
                "issuer": clean_text(values.get("cert_issuer")) or "河南省人民政府",
            }
        elif issued or expires:
            result.error(header("cert_number"), "填写了执法证日期但没有证号")
        else:
            cleaned["certificate"] = None
        result.cleaned = cleaned

    def classify(self, results: list[RowResult]) -> None:
        keys = [r.key for r in results]
        existing = {
            i.staff_number: i
            for i in Inspector.objects.filter(staff_number__in=keys).prefetch_related(
                "certificates", "trades", "check_items"
            )
        }
        user_owner = dict(
            Inspector.objects.exclude(user=None).values_list("user_id", "staff_number")
        )
        cert_owner = {
            (t, n): s
            for t, n, s in Certificate.objects.values_list(
                "cert_type", "number", "inspector__staff_number"
            )
        }
        seen_certs: dict[tuple, str] = {}
        for result in results:
            data = result.cleaned
            cert = data["certificate"]
            if cert:
                first = seen_certs.setdefault((cert["cert_type"], cert["number"]), result.key)
                if first != result.key:
                    result.error(self.header_of("cert_number"), f"与人员 {first} 的执法证号重复")
            user_id = data["user_id"]
            if user_id and user_owner.get(user_id, result.key) != result.key:
                result.error(self.header_of("username"), f"该账户已关联人员 {user_owner[user_id]}")
            cert = data["certificate"]
            if cert:
                owner = cert_owner.get((cert["cert_type"], cert["number"]), result.key)
                if owner != result.key:
                    result.error(self.header_of("cert_number"), f"证号已属于人员 {owner}")
            current = existing.get(result.key)
            if current is None:
                result.outcome = NEW
                continue
            before = _comparable(current, cert)
            after = {k: data[k] for k in COMPARED if k != "certificate"}
            after["certificate"] = _cert_view(cert)
            result.changes = {
                k: [before[k], after[k]]
                for k in COMPARED
                if before[k] != after[k]
                and not (k == "id_number" and not after[k])  # blank keeps the number
            }
            if "id_number" in result.changes:
                result.changes["id_number"] = [
                    crypto.mask_id_number(v) for v in result.changes["id_number"]
                ]
            result.outcome = UPDATED if result.changes else UNCHANGED

    def apply(self, preview: Preview, *, actor) -> dict:
        created = updated = 0
        existing = {
            i.staff_number: i
            for i in Inspector.objects.filter(
                staff_number__in=[r.key for r in preview.results if r.outcome == UPDATED]
            )
        }
        for result in preview.results:
            if result.outcome not in (NEW, UPDATED):
                continue
            data = dict(result.cleaned)
            trades, items, cert = (
                data.pop("trades"),
                data.pop("check_items"),
                data.pop("certificate"),
            )
            id_number = data.pop("id_number")
            inspector = existing.get(result.key) or Inspector()
            for key, value in data.items():
                setattr(inspector, key, value)
            if id_number:
                inspector.id_number = id_number
            inspector.save()
            inspector.trades.set(trades)
            inspector.check_items.set(items)
            if cert:
                Certificate.objects.update_or_create(
                    cert_type=cert["cert_type"],
                    number=cert["number"],
                    defaults={**cert, "inspector": inspector},
                )
            if result.outcome == NEW:
                created += 1
            else:
                updated += 1
        return {"created": created, "updated": updated}


def _cert_view(cert) -> dict | None:
    if not cert:
        return None
    return {k: (str(v) if v is not None else None) for k, v in cert.items()}


def _comparable(inspector: Inspector, cert: dict | None) -> dict:
    data = {
        "name": inspector.name,
        "id_number": inspector.id_number,
        "section_id": inspector.section_id,
        "mobile": inspector.mobile,
        "position": inspector.position,
        "joined_on": inspector.joined_on,
        "trades": sorted(t.pk for t in inspector.trades.all()),
        "check_items": sorted(i.pk for i in inspector.check_items.all()),
        "professional_qualifications": sorted(inspector.professional_qualifications),
        "is_expert": inspector.is_expert,
        "can_lead": inspector.can_lead,
        "max_checks_per_task": inspector.max_checks_per_task,
        "max_checks_per_year": inspector.max_checks_per_year,
        "user_id": inspector.user_id,
        "remarks": inspector.remarks,
        "certificate": None,
    }
    if cert:
        match = next(
            (
                c for c in inspector.certificates.all()
                if (c.cert_type, c.number) == (cert["cert_type"], cert["number"])
            ),
            None,
        )  # fmt: skip
        if match:
            data["certificate"] = _cert_view(
                {
                    k: getattr(match, k)
                    for k in ("cert_type", "number", "issued_on", "expires_on", "issuer")
                }
            )
    return data


# --- Export ------------------------------------------------------------------------------------
def roster_rows(*, unmasked: bool):
    today = timezone.localdate()
    labels = dict(ProfessionalQualification.choices)
    inspectors = Inspector.objects.select_related("section", "user").prefetch_related(
        "trades", "check_items", "status_periods",
        Prefetch("certificates", queryset=Certificate.objects.order_by("-expires_on")),
    )  # fmt: skip
    for i in inspectors.order_by("staff_number"):
        cert = next(iter(i.certificates.all()), None)
        period: StatusPeriod | None = status_on(i, today)
        yield [
            i.staff_number,
            i.name,
            i.id_number if unmasked else i.id_number_masked,
            i.section.name,
            i.mobile,
            i.position,
            i.joined_on,
            "、".join(t.name for t in i.trades.all()),
            "、".join(c.code for c in i.check_items.all()),
            "、".join(labels.get(q, q) for q in i.professional_qualifications),
            "是" if i.is_expert else "否",
            "是" if i.can_lead else "否",
            i.max_checks_per_task,
            i.max_checks_per_year,
            cert.cert_type if cert else "",
            cert.number if cert else "",
            cert.issued_on if cert else None,
            cert.expires_on if cert else None,
            cert.issuer if cert else "",
            i.user.username if i.user else "",
            i.remarks,
            f"{period.get_status_display()} {period.period_text()}" if period else "在岗",
        ]


def write_roster(target, *, unmasked: bool, template: bool = False) -> int:
    headers = [c.header for c in COLUMNS] + ([] if template else EXPORT_ONLY)
    widths = [c.width for c in COLUMNS] + ([] if template else [24])
    notes = [(c.header, c.note) for c in COLUMNS if c.note]
    rows = [] if template else roster_rows(unmasked=unmasked)
    return write_xlsx(
        target, headers=headers, rows=rows, sheet_title="执法检查人员", widths=widths, notes=notes
    )


def roster_export_xlsx(*, actor, unmasked: bool) -> bytes:
    """The roster as xlsx bytes (the import template plus 今日状态); audited."""
    buffer = io.BytesIO()
    count = write_roster(buffer, unmasked=unmasked)
    audit_record(
        event_type="inspector.exported",
        actor=actor,
        object_type="inspectors.roster",
        detail={"rows": count, "id_numbers": "unmasked" if unmasked else "masked"},
    )
    return buffer.getvalue()
