"""The reports on the site: public pages and PDFs, the secretariat's members-only variants,
and the forewords the secretariat writes."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from gmg.registry.models import Body
from gmg.repository.models import Output
from gmg.repository.services import save_output
from tests.members.conftest import SYSTEM

pytestmark = pytest.mark.django_db
MARKER = "ZZ-REPORT-PAGE-MARKER"


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """Report PDFs are cached under GMG_DATA_DIR/derived: give each test its own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def _pdf_text(content: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_the_reports_page_lists_the_final_and_annual_reports(client):
    page = client.get("/reports/").content.decode()
    assert 'href="/reports/gmg/final/"' in page and 'href="/reports/gmg/final.pdf"' in page
    for year in range(2006, 2019):
        assert f'href="/reports/gmg/{year}/"' in page
    assert 'href="/reports/gmg/2019/"' not in page  # the GMG ended in 2018


def test_a_report_page_is_the_report_with_a_link_to_its_pdf(client):
    response = client.get("/reports/gmg/2016/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Global Migration Group: annual report 2016</title>" in page
    assert 'href="/reports/gmg/2016.pdf"' in page
    # Item titles link to their pages on this site.
    assert 'href="http://testserver/outputs/js-2016-08-25-colombo-process/"' in page


@pytest.mark.parametrize(
    "path", ["/reports/gmg/1999/", "/reports/gmg/1999.pdf", "/reports/nope/final/"]
)
def test_unknown_years_and_bodies_are_404(client, path):
    assert client.get(path).status_code == 404


def test_the_pdf_is_built_once_per_record_version(client, own_data_dir, people):
    first = client.get("/reports/gmg/2016.pdf")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert 'filename="gmg-annual-report-2016.pdf"' in first["Content-Disposition"]
    content = b"".join(first.streaming_content)
    assert content.startswith(b"%PDF-")
    built = list((own_data_dir / "derived").glob("*.pdf"))
    assert len(built) == 1
    mtime = built[0].stat().st_mtime_ns

    again = client.get("/reports/gmg/2016.pdf")
    assert again["ETag"] == first["ETag"]
    assert b"".join(again.streaming_content) == content
    assert built[0].stat().st_mtime_ns == mtime  # served from disk, not rebuilt
    assert client.get("/reports/gmg/2016.pdf", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    # Any write is a new version of the record: the next download is rebuilt with it.
    from gmg.core.viewer import Viewer
    from gmg.reports.services import set_foreword

    set_foreword(
        Viewer(is_secretariat=True),
        body_key="gmg",
        report="annual-2016",
        text="The year of the Summit for Refugees and Migrants.",
        by=SYSTEM,
    )
    after = client.get("/reports/gmg/2016.pdf")
    assert after["ETag"] != first["ETag"]
    assert "The year of the Summit for Refugees and Migrants." in _pdf_text(
        b"".join(after.streaming_content)
    )
    assert len(list((own_data_dir / "derived").glob("*.pdf"))) == 1  # the old one is gone


@pytest.fixture
def internal_output(db):
    output = Output(
        key="internal-report-page-marker",
        body=Body.objects.get(key="gmg"),
        type="joint_statement",
        title=f"Internal statement {MARKER}",
        date="2016-06-01",
        visibility="body",
    )
    return save_output(output, by=SYSTEM)


def test_members_only_items_stay_out_of_the_public_reports(clients, internal_output):
    for path in ("/reports/gmg/final/", "/reports/gmg/2016/"):
        for who in ("anonymous", "unicef", "secretariat"):  # the public variant, whoever asks
            assert MARKER not in clients[who].get(path).content.decode()
    pdf = clients["secretariat"].get("/reports/gmg/2016.pdf")
    assert MARKER not in _pdf_text(b"".join(pdf.streaming_content))


def test_the_secretariat_gets_the_members_variant(clients, internal_output):
    page = clients["secretariat"].get("/members-area/reports/gmg/2016/").content.decode()
    assert MARKER in page and "(members only)" in page
    pdf = clients["secretariat"].get("/members-area/reports/gmg/2016.pdf")
    assert pdf["Cache-Control"].startswith("private")
    text = _pdf_text(b"".join(pdf.streaming_content))
    assert MARKER in text.replace("\n", " ")
    assert clients["unicef"].get("/members-area/reports/gmg/2016/").status_code == 403


def test_the_secretariat_writes_a_foreword_that_the_report_shows(clients):
    secretariat = clients["secretariat"]
    page = secretariat.get("/members-area/reports/?pick=gmg|final").content.decode()
    assert "Foreword: GMG: final report" in page
    response = secretariat.post(
        "/members-area/reports/",
        {"body": "gmg", "report": "final", "text": "We are proud of the Group.\n\nThank you."},
    )
    assert response.status_code == 302
    report = clients["anonymous"].get("/reports/gmg/final/").content.decode()
    assert "<p>We are proud of the Group.</p>" in report and "<p>Thank you.</p>" in report
    assert "The foreword has not been written yet" not in report


def test_a_foreword_too_long_is_a_form_error_and_nothing_is_saved(clients):
    from gmg.reports.models import Foreword

    response = clients["secretariat"].post(
        "/members-area/reports/", {"body": "gmg", "report": "final", "text": "x" * 20_001}
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 20000 characters" in response.content.decode()
    assert not Foreword.objects.exists()


def test_a_foreword_for_an_unknown_report_is_404(clients):
    response = clients["secretariat"].post(
        "/members-area/reports/", {"body": "gmg", "report": "annual-1999", "text": "x"}
    )
    assert response.status_code == 404


def test_the_sitemap_lists_the_report_pages(client):
    index = client.get("/sitemap.xml").content.decode()
    assert "sitemap-reports.xml" in index
    listed = client.get("/sitemap-reports.xml").content.decode()
    assert "http://testserver/reports/gmg/final/" in listed
    assert "http://testserver/reports/gmg/2016/" in listed
    assert "/reports/gmg/2019/" not in listed
