"""Printable documents: a Django template rendered to PDF bytes with WeasyPrint.

- A4, official-document margins, Chinese text in Noto Serif CJK SC (body) and Noto Sans CJK SC
  (headings and tables), the system's font files found through fontconfig — never from the
  network. The fonts are subset and embedded in every PDF.
- ``SafeURLFetcher`` refuses every URL that is not ``data:`` or a local file under an allowed
  directory (static files, the fonts), so a document can never make the server fetch a remote or
  arbitrary local resource.
- Official dates (``cn_date``: 二〇二六年十一月二十六日) and document numbers (``doc_number``:
  舞工信商抽〔2026〕1号) are formatted here; the template filters live in
  ``core/templatetags/official.py`` (``{% load official %}``).

Use: ``render_pdf("app/x_pdf.html", context)`` → bytes; ``pdf_response(...)`` → HttpResponse.
PDF templates extend ``core/pdf_base.html``.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

BASE_CSS = """
@page {
  size: A4;
  margin: 25mm 22mm 22mm 25mm;
  @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页";
    font-family: "Noto Sans CJK SC", sans-serif; font-size: 9pt; color: #555; }
}
html { font-family: "Noto Serif CJK SC", serif; font-size: 12pt; line-height: 1.6;
  color: #000; }
h1 { font-family: "Noto Sans CJK SC", sans-serif; font-size: 18pt; text-align: center;
  margin: 0 0 6mm; font-weight: bold; }
h2 { font-family: "Noto Sans CJK SC", sans-serif; font-size: 13pt; margin: 6mm 0 2mm; }
.docno { text-align: center; margin: 0 0 6mm; }
.org { text-align: center; font-size: 14pt; letter-spacing: 2pt; margin-bottom: 2mm; }
table { width: 100%; border-collapse: collapse; font-family: "Noto Sans CJK SC", sans-serif;
  font-size: 10pt; margin: 2mm 0 4mm; table-layout: fixed; }
/* Long text renders in bounded time (issue 21 item 9): an automatic table layout measures every
   break opportunity of every cell (a 5,000-character unbroken cell took 95 s with ``anywhere``),
   a fixed one does not; ``anywhere`` wraps what has no break opportunity instead of overflowing. */
th, td, p, li, .pre { overflow-wrap: anywhere; }
th, td { border: 0.6pt solid #000; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
th { background: #eee; font-weight: bold; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
.kv th { width: 28%; background: #f4f4f4; }
.signature { margin-top: 14mm; text-align: right; }
.signature p { margin: 1mm 0; }
.sign-lines td { height: 14mm; }
.muted { color: #555; font-size: 9pt; }
.pre { white-space: pre-wrap; }
.num { text-align: right; }
.nowrap { white-space: nowrap; }
"""

_CN_DIGITS = "〇一二三四五六七八九"


def cn_year(year: int) -> str:
    return "".join(_CN_DIGITS[int(d)] for d in str(year))


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals as used in dates: 十, 十一, 二十, 二十六, 三十一."""
    if not 0 < n < 100:
        raise ValueError("only 1..99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    prefix = "" if tens == 1 else _CN_DIGITS[tens]
    return f"{prefix}十{_CN_DIGITS[ones] if ones else ''}"


def cn_date(day: datetime.date | None) -> str:
    """The official date of a document (GB/T 9704 practice): 二〇二六年十一月二十六日."""
    if day is None:
        return ""
    if isinstance(day, datetime.datetime):
        day = day.date()
    return f"{cn_year(day.year)}年{cn_number(day.month)}月{cn_number(day.day)}日"


def doc_number(prefix: str, year: int, seq: int) -> str:
    """The bureau's document number: prefix〔year〕seq号 with hexagonal brackets, no leading zero."""
    return f"{prefix}〔{int(year)}〕{int(seq)}号"


class RefusedURL(Exception):
    pass


def _allowed_roots() -> list[Path]:
    roots = [*FONT_DIRS, Path(settings.BASE_DIR) / "static"]
    roots += [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [r.resolve() for r in roots]


def _weasy() -> tuple[Any, Any]:
    # WeasyPrint loads Pango and its fonts (about a second): only the processes that print do.
    import weasyprint
    from weasyprint.urls import URLFetcher

    class SafeURLFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no types
        """Only ``data:`` URLs and local files under the allowed roots; everything else fails."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in _allowed_roots()):
                    return super().fetch(url, headers)
            raise RefusedURL(f"PDF资源被拒绝（只允许本地静态文件）：{url[:200]}")

    return weasyprint, SafeURLFetcher


def render_pdf(
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    request: HttpRequest | None = None,
    extra_css: str = "",
) -> bytes:
    """Render ``template_name`` with ``context`` and return the PDF bytes."""
    weasyprint, fetcher_class = _weasy()
    from weasyprint.text.fonts import FontConfiguration

    html = render_to_string(template_name, context or {}, request=request)
    fetcher = fetcher_class(allowed_protocols=("file", "data"), allow_redirects=False)
    font_config = FontConfiguration()
    stylesheets = [weasyprint.CSS(string=BASE_CSS, font_config=font_config, url_fetcher=fetcher)]
    if extra_css:
        stylesheets.append(
            weasyprint.CSS(string=extra_css, font_config=font_config, url_fetcher=fetcher)
        )
    document = weasyprint.HTML(
        string=html,
        base_url=(Path(settings.BASE_DIR) / "static").as_uri() + "/",
        url_fetcher=fetcher,
    )
    pdf: bytes = document.write_pdf(stylesheets=stylesheets, font_config=font_config)
    return pdf


def pdf_response(pdf: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
