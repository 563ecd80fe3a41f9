"""The final and annual reports: content built from the record, the PDF as a reader gets it,
the command line, and what the public variant must never hold.

The PDF is opened with pypdf (text, metadata, structure) and rendered to PNG with Debian's
pdftoppm; the pages are kept under ``artifacts/reports/`` for people to look at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader

from gmg.accounts.services import Actor
from gmg.cli import main as gmg
from gmg.core.viewer import ANONYMOUS
from gmg.registry.models import Body, Entity
from gmg.reports.content import ReportError, annual_report, final_report
from gmg.reports.produce import ReportRequest, produce
from gmg.reports.render import render_html
from gmg.repository.models import Output
from gmg.repository.services import save_output

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "reports"
SYSTEM = Actor.system("test")

# Every chapter of the final report, and every section of its annex, as the 2018 report
# names them (the generated ones may add a word, e.g. "Chairmanships since 2006").
FINAL_HEADINGS = [
    "Final Report of the Global Migration Group",
    "About this report",
    "Contents",
    "Foreword",
    "Origins of the Global Migration Group",
    "Main activities of the Global Migration Group",
    "Activities of the Working Groups and Task Forces",
    "Working Group on Mainstreaming Migration into National Development Strategies",
    "Task Force on Migration and Decent Work",
    "Conclusion and transition to the United Nations Network on Migration",
    "Annex",
    "Background and membership",
    "Chairmanships since 2006",
    "Working Groups and Task Forces",
    "Symposia, workshops and panel discussions",
    "Joint Publications",
    "Joint Statements",
    "UN General Assembly High-level Dialogue on International Migration and Development",
    "Post-2015 Development Agenda",
    "Global Forum on Migration and Development (GFMD)",
    "UN Summit for Refugees and Migrants",
    "Global Compact for Safe, Orderly and Regular Migration",
    "Sources",
]
# A sample of items from across the annex, as the record words them.
FINAL_ITEMS = [
    "2009 (January – May): United Nations Conference on Trade and Development (UNCTAD) (interim)",
    "In November 2007, the GMG admitted UN Regional Commissions, UNESCO, UNICEF and UNITAR",
    "Joint statement at the Fifth Ministerial Meeting of the Colombo Process",
    "Stocktaking exercise on Protection-at-Sea",
    "established in November 2012 (also stated: 2013)",
    "The GMG was replaced, in October 2018, by the United Nations Network on Migration",
]


def _flat(text: str) -> str:
    """PDF text with its line breaks and hyphenation undone, spaces collapsed."""
    return re.sub(r"\s+", " ", text.replace("-\n", "-")).strip()


_BUILT: dict[str, bytes] = {}


@pytest.fixture
def final_pdf(db) -> bytes:
    """The public final report as a PDF, built once for the module (from the shipped record,
    which no test here changes outside its own rolled-back transaction)."""
    if "final" not in _BUILT:
        _BUILT["final"] = produce(ReportRequest("final", "gmg"), "pdf")
    return _BUILT["final"]


_TEXT: dict[str, str] = {}


@pytest.fixture
def final_text(final_pdf) -> str:
    if "final" not in _TEXT:
        reader = PdfReader(io.BytesIO(final_pdf))
        _TEXT["final"] = _flat("\n".join(page.extract_text() for page in reader.pages))
    return _TEXT["final"]


def test_the_final_report_pdf_opens_with_a_sane_number_of_pages(final_pdf):
    assert final_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(final_pdf))
    # The 2018 report has about 20 pages; ours adds a cover, contents, charts and footnotes.
    assert 18 <= len(reader.pages) <= 45, len(reader.pages)


@pytest.mark.parametrize("heading", FINAL_HEADINGS)
def test_the_final_report_pdf_holds_each_heading(final_text, heading):
    assert heading in final_text


@pytest.mark.parametrize("item", FINAL_ITEMS)
def test_the_final_report_pdf_holds_items_of_the_annex(final_text, item):
    assert item in final_text


def test_the_pdf_has_metadata_language_tags_and_bookmarks(final_pdf):
    reader = PdfReader(io.BytesIO(final_pdf))
    assert reader.metadata.title == "Final Report of the Global Migration Group"
    assert reader.metadata.author == "Global Migration Group"
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en"
    assert "/StructTreeRoot" in catalog  # tagged: headings, lists and figures for readers
    assert catalog["/MarkInfo"]["/Marked"]
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Annex" in titles and "Foreword" in titles
    roles, alts = _structure(catalog["/StructTreeRoot"])
    assert roles["/H1"] >= 7 and roles["/H2"] >= 11  # chapters; annex sections
    assert roles["/Figure"] == 4  # the charts, each with its text alternative
    assert len(alts) == 4 and all(alt.startswith(("Members", "Chairs", "Outputs")) for alt in alts)


def _structure(root) -> tuple[Counter, list[str]]:
    """The roles in a tagged PDF's structure tree, and the figures' alternative texts."""
    roles: Counter = Counter()
    alts: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop().get_object()
        if not isinstance(node, dict):
            continue
        if "/S" in node:
            roles[node["/S"]] += 1
            if node["/S"] == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
        kids = node.get("/K")
        stack.extend(kids if isinstance(kids, list) else [kids] if kids is not None else [])
    return roles, alts


def test_the_contents_give_page_numbers_that_point_at_the_chapters(final_pdf):
    reader = PdfReader(io.BytesIO(final_pdf))
    contents = next(p.extract_text() for p in reader.pages if "Contents" in p.extract_text())
    listed = re.search(r"Annex\s*\.*\s*(\d+)", contents)
    assert listed, contents
    page = int(listed.group(1))
    assert reader.pages[page - 1].extract_text().lstrip().splitlines()[0:4]
    assert "Annex" in reader.pages[page - 1].extract_text()


def test_running_headers_and_page_numbers(final_pdf):
    reader = PdfReader(io.BytesIO(final_pdf))
    total = len(reader.pages)
    middle = reader.pages[total // 2].extract_text()
    assert f"{total // 2 + 1} / {total}" in middle
    assert "Final Report of the Global Migration Group" in middle  # the running header


def test_sources_are_footnotes_and_listed_at_the_end(final_text):
    assert re.search(r"\d+\. Source: \[1\], § Joint Statements", final_text)
    sources = final_text[final_text.index("Footnotes refer to these documents") :]
    assert (
        "1. Final Report of the Global Migration Group: Summary of main achievements" in (sources)
        or "Final Report of the Global Migration Group: Summary of main achievements" in sources
    )


def test_charts_are_vector_graphics_with_text(final_pdf):
    """Charts are drawn as paths and text, not pictures: no raster image in the PDF, and
    the charts' labels are text a reader can search."""
    assert b"/Subtype /Image" not in final_pdf and b"/Subtype/Image" not in final_pdf
    reader = PdfReader(io.BytesIO(final_pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for caption in (
        "Members of the Global Migration Group over time",
        "Chairs of the Global Migration Group",
        "Outputs of the Global Migration Group per year, by type",
        "Outputs of the Global Migration Group led or co-led by each entity",
    ):
        assert caption in _flat(text)
    assert "members" in text and "outputs" in text  # axis labels are text


def test_about_this_report_gives_the_counts_and_the_data_version(final_text):
    about = final_text[final_text.index("About this report") : final_text.index("Contents")]
    assert "Outputs 153" in about
    assert "Chair terms 21" in about
    assert "Working groups and task forces 5" in about
    assert "Member entities (with predecessors) 22" in about
    assert re.search(r"Data version record 2026\.11\.1, content [0-9a-f]{12}", about)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) is missing")
def test_pages_render_to_png_kept_as_artefacts(final_pdf):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("final-*.png"):
        old.unlink()
    source = ARTIFACTS / "final.pdf"
    source.write_bytes(final_pdf)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(source), str(ARTIFACTS / "final")], check=True
    )
    pages = sorted(ARTIFACTS.glob("final-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(final_pdf)).pages)
    assert all(p.stat().st_size > 2_000 for p in pages)  # not blank


# --- content ------------------------------------------------------------------------------


def test_the_final_report_is_built_in_a_fixed_number_of_queries(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(45):  # measured: 36
        report = final_report(ANONYMOUS, "gmg")
    assert [c.key for c in report.chapters] == [
        "foreword",
        "origins",
        "activities",
        "working-groups",
        "transition",
        "annex",
    ]


def test_the_foreword_is_a_placeholder_until_the_secretariat_writes_it(db):
    from gmg.core.viewer import Viewer
    from gmg.reports.services import set_foreword

    foreword = final_report(ANONYMOUS, "gmg").chapters[0]
    assert foreword.placeholder
    set_foreword(
        Viewer(is_secretariat=True),
        body_key="gmg",
        report="final",
        text="As the work of the Group draws to a close…\n\nWe thank every member.",
        by=SYSTEM,
    )
    foreword = final_report(ANONYMOUS, "gmg").chapters[0]
    assert not foreword.placeholder
    assert foreword.paragraphs == [
        "As the work of the Group draws to a close…",
        "We thank every member.",
    ]


def test_only_the_secretariat_writes_forewords_and_bad_keys_are_refused(db):
    from django.core.exceptions import PermissionDenied, ValidationError

    from gmg.core.viewer import Viewer
    from gmg.reports.services import set_foreword

    with pytest.raises(PermissionDenied):
        set_foreword(ANONYMOUS, body_key="gmg", report="final", text="x", by=SYSTEM)
    secretariat = Viewer(is_secretariat=True)
    with pytest.raises(ValidationError, match="annual-YYYY"):
        set_foreword(secretariat, body_key="gmg", report="yearly", text="x", by=SYSTEM)
    with pytest.raises(ValidationError, match="at most"):
        set_foreword(secretariat, body_key="gmg", report="final", text="x" * 20_001, by=SYSTEM)
    with pytest.raises(ReportError, match="No body has the key 'nope'"):
        set_foreword(secretariat, body_key="nope", report="final", text="x", by=SYSTEM)


def test_disagreeing_sources_are_both_shown(db):
    report = final_report(ANONYMOUS, "gmg")
    groups = next(s for s in report.annex if s.key == "working-groups")
    human_rights = next(i for i in groups.items if "Human Rights" in i.text)
    assert "November 2012" in human_rights.text and "2013" in human_rights.text


def test_the_annual_report_names_the_chair_changes_outputs_and_statements(db):
    report = annual_report(ANONYMOUS, "gmg", 2016)
    text = render_html(report)
    chapter = {c.key: c for c in report.chapters}
    assert [c.key for c in report.chapters] == [
        "foreword",
        "chairs",
        "membership",
        "outputs",
        "events",
        "statements",
    ]
    assert "UN-Women" in chapter["chairs"].paragraphs[0]
    assert "Theme: not stated" in chapter["chairs"].paragraphs[0]
    changes = [i.text for i in chapter["membership"].sections[0].items]
    assert changes == [
        "United Nations Environment Programme (UNEP) joined in 2016.",
        "United Nations Industrial Development Organization (UNIDO) joined in 2016.",
        "World Food Programme (WFP) joined in 2016.",
    ]  # by joining date, then acronym
    assert "37 outputs are dated 2016" in chapter["outputs"].paragraphs[0]
    assert "Joint statement at the Fifth Ministerial Meeting of the Colombo Process" in text
    statements = report.chapters[-1]
    assert statements.title == "Statements adopted"
    assert "Clearance figures: not recorded" in statements.sections[0].items[0].text
    for chart in ("membership", "chairs", "outputs-per-year", "led-matrix"):
        assert f'id="{chart}-title"' in text


def test_an_annual_report_outside_the_body_s_life_is_refused(db):
    with pytest.raises(ReportError, match=r"no year 1999 .*2006–2018"):
        annual_report(ANONYMOUS, "gmg", 1999)
    with pytest.raises(ReportError, match="needs a year"):
        ReportRequest("annual", "gmg")
    with pytest.raises(ReportError, match="choose final or annual"):
        ReportRequest("monthly", "gmg")


# --- visibility ---------------------------------------------------------------------------

MARKER = "ZZ-INTERNAL-REPORT-MARKER"


@pytest.fixture
def internal_output(db):
    """A members-only output of 2016 whose title carries a marker."""
    gmg_body = Body.objects.get(key="gmg")
    output = Output(
        key="internal-2016-marker",
        body=gmg_body,
        type="joint_statement",
        title=f"Internal statement {MARKER}",
        date="2016-05-02",
        visibility="body",
    )
    return save_output(
        output, by=SYSTEM, entity_links=[(Entity.objects.get(acronym="IOM"), "lead")]
    )


def test_the_public_reports_hold_no_members_only_item(internal_output):
    for request in (ReportRequest("final", "gmg"), ReportRequest("annual", "gmg", 2016)):
        assert MARKER.encode() not in produce(request, "html")
    pdf = produce(ReportRequest("annual", "gmg", 2016), "pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert MARKER not in _flat(text)
    assert "Internal statement" not in text


def test_the_members_variant_holds_internal_items_marked(internal_output):
    html = produce(ReportRequest("annual", "gmg", 2016, members_variant=True), "html").decode()
    assert MARKER in html
    line = next(line for line in html.splitlines() if MARKER in line)
    assert "(members only)" in line
    assert "Members only: this variant includes internal items" in html
    assert "38 outputs are dated 2016" in html  # counted in the members' figures


# --- the command line ---------------------------------------------------------------------


def test_gmg_report_writes_a_pdf_and_html(db, tmp_path, capsys):
    argv = ["report", "annual", "--body", "gmg", "--year", "2016", "--out", str(tmp_path)]
    assert gmg(argv) == 0
    written = tmp_path / "gmg-annual-report-2016.pdf"
    assert written.read_bytes().startswith(b"%PDF-")
    assert re.search(
        r"wrote .*gmg-annual-report-2016\.pdf \(\d+ KiB, \d+ pages, [\d.]+ s\)",
        capsys.readouterr().out,
    )
    out = tmp_path / "final.html"
    assert gmg(["report", "final", "--format", "html", "--members", "--out", str(out)]) == 0
    html = out.read_text()
    assert "<title>Final Report of the Global Migration Group (members only)</title>" in html


@pytest.mark.parametrize(
    "argv, message",
    [
        (["report", "annual", "--year", "1999"], "no year 1999"),
        (["report", "annual"], "needs a year"),
        (["report", "final", "--body", "nope"], "No body has the key 'nope'"),
    ],
)
def test_gmg_report_refuses_bad_requests_with_a_message(db, capsys, argv, message):
    assert gmg(argv) == 2
    assert message in capsys.readouterr().err
