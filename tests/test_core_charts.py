"""core.charts: valid SVG, escaped labels, CJK text kept, no scripts or style attributes, the
numbers drawn in proportion, and the charts survive WeasyPrint."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from core.charts import bar_chart, pie_chart, stacked_bar_chart, text_width

# conftest.py snapshots the migration data in a session fixture that needs the test database.
pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>&'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def assert_no_script_or_style(root: ET.Element) -> None:
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject")
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)


CHARTS = [
    lambda labels, values: bar_chart(labels, values, title="按风险等级"),
    lambda labels, values: pie_chart(labels, values, title="结果构成"),
    lambda labels, values: stacked_bar_chart(
        labels, [("已公示", values), ("未公示", [1] * len(values))], title="公示情况"
    ),
]


@pytest.mark.parametrize("make", CHARTS)
def test_valid_svg_with_cjk_and_escaped_labels(make):
    svg = make(["A 低风险", EVIL, "垭口街道"], [3, 2, 5])
    assert isinstance(svg, SafeString)
    root = parse(svg)  # would raise on an unescaped < or &
    assert_no_script_or_style(root)
    shown = " ".join(texts(root) + titles(root))
    assert "A 低风险" in shown and "垭口街道" in shown
    # The hostile label is text: it is there verbatim after parsing, never as markup.
    assert any(EVIL in t for t in texts(root) + titles(root))
    assert "<script>" not in svg


def test_bar_lengths_are_proportional_and_values_shown():
    root = parse(bar_chart(["甲", "乙", "丙"], [10, 5, 0]))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)
    assert widths[2] == 0
    assert {"10", "5", "0"} <= set(texts(root))


def test_stacked_segments_add_up_and_totals_shown():
    root = parse(stacked_bar_chart(["任务一", "任务二"], [("已", [2, 4]), ("未", [2, 0])]))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    by_title = {r.find(f"{SVG}title").text: float(r.get("width")) for r in bars}
    assert by_title["任务一 · 已：2"] == pytest.approx(by_title["任务一 · 未：2"])
    assert by_title["任务二 · 已：4"] == pytest.approx(
        by_title["任务一 · 已：2"] + by_title["任务一 · 未：2"], abs=0.2
    )
    assert "任务二 · 未：0" not in by_title  # zero segments are not drawn
    assert {"4"} <= set(texts(root))
    assert "已" in texts(root) and "未" in texts(root)  # the legend


def test_pie_shares_and_single_slice():
    root = parse(pie_chart(["未发现问题", "发现问题已责令改正", "注销"], [3, 1, 0]))
    legend = " ".join(texts(root))
    assert "未发现问题 3（75.0%）" in legend
    assert "发现问题已责令改正 1（25.0%）" in legend
    assert "注销 0（0.0%）" in legend
    assert len(list(root.iter(f"{SVG}path"))) == 2  # the zero slice is not drawn
    single = parse(pie_chart(["全部"], [7]))
    assert len(list(single.iter(f"{SVG}circle"))) == 1


@pytest.mark.parametrize("make", CHARTS)
def test_empty_data_says_so(make):
    root = parse(make([], []))
    assert "暂无数据" in texts(root)


def test_negative_and_missing_values_are_zero():
    root = parse(bar_chart(["a", "b"], [-3, None]))
    assert [float(r.get("width")) for r in root.iter(f"{SVG}rect")] == [0, 0]


def test_mismatched_lengths_refused():
    with pytest.raises(ValueError):
        bar_chart(["a"], [1, 2])
    with pytest.raises(ValueError):
        stacked_bar_chart(["a", "b"], [("x", [1])])


def test_long_label_shortened_with_full_text_in_tooltip():
    label = "舞钢市工业信息化和商务局成品油零售经营资格专项检查任务第一批次"
    root = parse(bar_chart([label], [1]))
    assert label in titles(root)
    assert all(text_width(t) <= 200 for t in texts(root) if t.endswith("…"))
    assert any(t.endswith("…") for t in texts(root))


def test_cjk_is_wider_than_latin():
    assert text_width("中文") == pytest.approx(2 * 12)
    assert text_width("ab") < text_width("中文")


def test_charts_render_in_a_pdf_with_their_chinese_labels():
    from django.template import engines
    from pypdf import PdfReader

    from core import pdf as core_pdf

    template = engines["django"].from_string(
        '{% extends "core/pdf_base.html" %}{% block body %}<h1>图表</h1>{{ a }}{{ b }}{{ c }}'
        "{% endblock %}"
    )
    html = template.render(
        {
            "a": bar_chart(["垭口街道", "尚店镇"], [4, 2], title="按乡镇统计"),
            "b": pie_chart(["未发现问题", "责令改正"], [3, 1]),
            "c": stacked_bar_chart(["任务"], [("已公示", [2]), ("未公示", [1])]),
        }
    )
    import weasyprint

    pdf = weasyprint.HTML(string=html).write_pdf(
        stylesheets=[weasyprint.CSS(string=core_pdf.BASE_CSS)]
    )
    text = "".join(
        "".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    for expected in ("按乡镇统计", "垭口街道", "尚店镇", "未发现问题", "已公示"):
        assert expected in text, expected
