"""core.pdf: official dates and numbers, and PDFs that embed CJK fonts and fetch nothing remote."""

import datetime
import io
from decimal import Decimal

import pytest
from django.template import Context, Template
from pypdf import PdfReader

from core import pdf as core_pdf
from core.pdf import cn_date, doc_number, render_pdf


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 11, 26), "二〇二六年十一月二十六日"),
        (datetime.date(2026, 1, 1), "二〇二六年一月一日"),
        (datetime.date(2025, 10, 10), "二〇二五年十月十日"),
        (datetime.date(2030, 12, 31), "二〇三〇年十二月三十一日"),
        (datetime.date(2026, 2, 20), "二〇二六年二月二十日"),
        (datetime.datetime(2026, 3, 15, 9, 0), "二〇二六年三月十五日"),
    ],
)
def test_cn_date(day, expected):
    assert cn_date(day) == expected


def test_cn_date_filter_and_percent():
    rendered = Template(
        "{% load official %}{{ d|cn_date }} {{ r|percent }} {{ s|percent }} {{ n|cn_date }}"
    ).render(
        Context(
            {
                "d": datetime.date(2026, 11, 26),
                "r": Decimal("0.0300"),
                "s": Decimal("0.125"),
                "n": None,
            }
        )
    )
    assert rendered.strip() == "二〇二六年十一月二十六日 3% 12.5%"


def test_doc_number():
    assert doc_number("舞工信商抽", 2026, 1) == "舞工信商抽〔2026〕1号"
    assert doc_number("舞工信商", 2026, 12) == "舞工信商〔2026〕12号"


def _fonts(pdf: bytes) -> list[str]:
    names = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert any(key.startswith("/FontFile") for key in descriptor)
            names.append(str(font["/BaseFont"]))
    return names


@pytest.fixture
def pdf_template(tmp_path, settings):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "doc.html").write_text(
        '{% extends "core/pdf_base.html" %}{% load official %}{% block body %}'
        '<div class="org">舞钢市工业信息化和商务局</div><h1>抽取结果确认单</h1>'
        "<p>{{ day|cn_date }}</p><p>{{ body }}</p>"
        '<img src="{{ img }}" alt="">{% endblock %}',
        encoding="utf-8",
    )
    settings.TEMPLATES = [
        dict(settings.TEMPLATES[0], DIRS=[*settings.TEMPLATES[0]["DIRS"], tmp_path])
    ]
    return "t/doc.html"


def test_render_pdf_embeds_cjk_fonts(pdf_template):
    pdf = render_pdf(
        pdf_template, {"day": datetime.date(2026, 11, 26), "body": "检查人员：张伟、李娜"}
    )
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "舞钢市工业信息化和商务局" in text
    assert "二〇二六年十一月二十六日" in text
    assert "检查人员：张伟、李娜" in text
    assert all("CJK" in name for name in _fonts(pdf))
    # A4 portrait: 595 × 842 points.
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/logo.png",
        "http://127.0.0.1:8000/secret",
        "file:///etc/passwd",
        "ftp://x/y",
    ],
)
def test_remote_and_arbitrary_urls_are_refused(pdf_template, url, monkeypatch):
    seen = []
    _weasyprint, fetcher_class = core_pdf._weasy()
    original = fetcher_class.__mro__[1].fetch

    def spy(self, target, headers=None):
        seen.append(target)
        return original(self, target, headers)

    monkeypatch.setattr(fetcher_class.__mro__[1], "fetch", spy)
    pdf = render_pdf(pdf_template, {"day": None, "body": "x", "img": url})
    assert pdf.startswith(b"%PDF-")
    assert url not in seen  # the base fetcher was never asked


def test_fetcher_allows_static_and_data(settings):
    _, fetcher_class = core_pdf._weasy()
    fetcher = fetcher_class(allowed_protocols=("file", "data"))
    static_css = (settings.BASE_DIR / "static" / "css" / "app.css").as_uri()
    assert fetcher.fetch(static_css) is not None
    assert fetcher.fetch("data:text/plain,hello") is not None
    with pytest.raises(core_pdf.RefusedURL):
        fetcher.fetch("file:///etc/hostname")
    with pytest.raises(core_pdf.RefusedURL):
        fetcher.fetch((settings.BASE_DIR / "static" / ".." / "manage.py").as_uri())
