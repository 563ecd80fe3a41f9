"""Charts: real SVG from matplotlib, with a text alternative, and readable colours."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from gmg.reports import charts


def contrast(foreground: str, background: str) -> float:
    """The WCAG 2.1 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula():
    assert contrast("#ffffff", "#000000") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("fill", charts.LABELLED_FILLS)
def test_white_labels_are_readable_on_every_fill(fill):
    assert contrast("#ffffff", fill) >= 4.5


def test_axis_ink_is_readable():
    assert contrast(charts.INK, "#ffffff") >= 7


def test_chair_chart_is_svg_with_title_description_and_table():
    terms = [
        charts.Term(
            dt.date(2009, 1, 1), dt.date(2009, 5, 31), ["UNCTAD"], True, "", "Jan–May 2009"
        ),
        charts.Term(dt.date(2018, 1, 1), dt.date(2018, 12, 31), ["FAO", "IOM"], False, "", "2018"),
    ]
    chart = charts.chair_timeline_chart("Global Migration Group", terms)
    root = ET.fromstring(chart.svg)
    assert root.tag.endswith("svg") and root.get("role") == "img"
    assert root.get("aria-labelledby") == "chairs-title chairs-desc"
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "UNCTAD" in texts and "FAO" in texts and "IOM" in texts  # labels stay text
    assert "1 interim, 1 co-chaired" in chart.description
    assert chart.rows[0][2] == "interim" and chart.rows[1][1] == "FAO and IOM"
    assert chart.rows[0][3] == "not stated"


def test_membership_chart_counts_growth():
    admissions = [
        charts.Admission("ILO", "2003-04"),
        charts.Admission("IOM", "2003-04"),
        charts.Admission("UNDP", "2006"),
        charts.Admission("IFAD", "2017"),
    ]
    chart = charts.membership_chart("Group", admissions, dt.date(2018, 10, 31))
    assert [row[2] for row in chart.rows] == ["2", "3", "4"]
    assert chart.description.startswith("The membership grew from 2 in 2003 to 4 in 2017")
    root = ET.fromstring(chart.svg)  # well-formed
    first, second = list(root)[:2]
    assert first.tag.endswith("title") and first.text == "Members of the Group over time"
    assert second.tag.endswith("desc")
