"""Citations of outputs: CSL-JSON, BibTeX and RIS, on the output's page and in the API.

The files are read back with the parsers reference managers use (bibtexparser, rispy), on
the shipped record's own outputs: a handbook dated 2010, a statement of 13 May 2016, a
contribution of December 2017, an exhibition from 12 to 22 February 2018, undated briefs.
"""

from __future__ import annotations

import json

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from django.test import Client

from gmg.accounts.services import Actor
from gmg.repository import citations

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
GMG = "Global Migration Group"

# Every item type of CSL 1.0.2 (csl-data.json).
CSL_ITEM_TYPES = {
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book",
    "broadcast", "chapter", "classic", "collection", "dataset", "document", "entry",
    "entry-dictionary", "entry-encyclopedia", "event", "figure", "graphic", "hearing",
    "interview", "legal_case", "legislation", "manuscript", "map", "motion_picture",
    "musical_score", "pamphlet", "paper-conference", "patent", "performance", "periodical",
    "personal_communication", "post", "post-weblog", "regulation", "report", "review",
    "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
}  # fmt: skip
# The RIS reference types (rispy's list, from the RIS specification).
RIS_TYPES = set(rispy.TYPE_OF_REFERENCE_MAPPING)

# key: (CSL type, BibTeX entry type, RIS type, issued date-parts or None)
REAL = {
    "pub-2010-mainstreaming-handbook": ("book", "book", "BOOK", [[2010]]),
    "pub-2008-migration-and-human-rights": ("report", "report", "RPRT", [[2008]]),
    "js-2016-05-13-friends-of-migration": ("speech", "misc", "SLIDE", [[2016, 5, 13]]),
    "con-2017-12-gcm-stocktaking": ("report", "report", "RPRT", [[2017, 12]]),
    "ev-2018-02-12-photo-exhibition": ("event", "misc", "GEN", [[2018, 2, 12], [2018, 2, 22]]),
    "pr-2017-01-01-unu-chair": ("article", "misc", "GEN", [[2017, 1, 1]]),
    "ib-2017-01-human-rights-inclusion": ("report", "report", "RPRT", None),
}


def output(key: str):
    from gmg.repository.models import Output

    return Output.objects.select_related("body").get(key=key)


def check_csl_date(value) -> list[list[int]]:
    """A CSL date variable given as date-parts: one or two dates, each [y], [y, m] or
    [y, m, d] with a real month and day."""
    assert set(value) == {"date-parts"}, value
    parts = value["date-parts"]
    assert 1 <= len(parts) <= 2, parts
    for date in parts:
        assert 1 <= len(date) <= 3 and all(isinstance(n, int) for n in date), date
        if len(date) > 1:
            assert 1 <= date[1] <= 12
        if len(date) > 2:
            assert 1 <= date[2] <= 31
    return parts


def check_csl_item(item: dict) -> None:
    """The shape of a CSL-JSON item (csl-data.json): the fields this platform sends."""
    assert isinstance(item["id"], str) and item["id"]
    assert item["type"] in CSL_ITEM_TYPES
    assert isinstance(item["title"], str) and item["title"]
    assert item["author"] == [{"literal": item["publisher"]}]  # an institution, whole
    check_csl_date(item["accessed"])
    assert len(item["accessed"]["date-parts"][0]) == 3
    if "issued" in item:
        check_csl_date(item["issued"])
    for name in ("genre", "URL", "event-title", "event-place", "abstract", "publisher"):
        assert isinstance(item.get(name, ""), str)
    allowed = {"id", "type", "title", "author", "publisher", "issued", "accessed", "genre"}
    allowed |= {"URL", "event-title", "event-place", "abstract"}
    assert set(item) <= allowed, set(item) - allowed


def latex_decoder() -> LatexDecodingMiddleware:
    """bibtexparser's LaTeX decoding, also knowing LaTeX's \\textbraceleft and
    \\textbraceright (which pylatexenc's defaults lack), as LaTeX and Zotero do."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    context.add_context_category(
        "braces",
        prepend=True,
        macros=[
            MacroTextSpec("textbraceleft", simplify_repl="{"),
            MacroTextSpec("textbraceright", simplify_repl="}"),
            MacroTextSpec("url", simplify_repl="%s"),
        ],
    )
    return LatexDecodingMiddleware(
        decoder=LatexNodes2Text(latex_context=context, math_mode="verbatim")
    )


def parse_bibtex(text: str, *, decode: bool = True):
    stack = [latex_decoder()] if decode else []
    library = bibtexparser.parse_string(text, append_middleware=stack)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    assert len(library.entries) == 1
    return library.entries[0]


def bibtex_names(text: str) -> list:
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    return library.entries[0]["author"]


def parse_ris(text: str) -> dict:
    assert text.startswith("TY  - "), text[:40]  # the first line, as Zotero expects
    records = rispy.loads(text)
    assert len(records) == 1
    return records[0]


# -- CSL-JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", REAL)
def test_csl_json_of_real_outputs_has_the_stated_precision_only(client, key):
    csl_type, _, _, issued = REAL[key]
    found = output(key)
    response = client.get(f"/outputs/{key}/cite.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.citationstyles.csl+json"
    assert response["Content-Disposition"] == f'inline; filename="gmg-{key}.json"'
    items = json.loads(response.content)
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    check_csl_item(item)
    assert item["id"] == key
    assert item["type"] == csl_type
    assert item["title"] == found.title
    assert item["author"] == [{"literal": GMG}] and item["publisher"] == GMG
    assert item["URL"] == f"http://testserver/outputs/{key}/"
    if issued is None:
        assert "issued" not in item  # undated: no date made up
    else:
        assert item["issued"] == {"date-parts": issued}


def test_csl_json_carries_the_occasion_place_genre_and_description(client):
    item = client.get("/outputs/con-2017-12-gcm-stocktaking/cite.json").json()[0]
    assert item["event-title"] == "Global Compact for Migration stocktaking meeting"
    assert item["event-place"] == "Puerto Vallarta, Mexico"
    assert item["genre"] == "Contribution to a process"
    assert (
        client.get("/outputs/ev-2018-02-12-photo-exhibition/cite.json").json()[0]["genre"]
        == "Exhibition"
    )
    described = output("pub-2010-mainstreaming-handbook")
    if described.description:
        item = client.get("/outputs/pub-2010-mainstreaming-handbook/cite.json").json()[0]
        assert item["abstract"] == described.description.strip()


def test_every_output_of_the_record_has_a_valid_csl_item(rf):
    from gmg.repository.models import Output

    request = rf.get("/")
    outputs = list(Output.objects.select_related("body").prefetch_related("dates"))
    assert len(outputs) >= 153
    for found in outputs:
        item = citations.csl_item(found, citations.output_url(request, found.key))
        check_csl_item(item)
        if found.date_start is None:
            assert "issued" not in item, found.key
            continue
        # The earliest stated date (as the page's citation gives it), never more precise.
        first = item["issued"]["date-parts"][0]
        assert first[0] == found.date_start.year, found.key
        stated = {d.text for d in found.dates.all()}
        text = "/".join("-".join(f"{n:02d}" for n in date) for date in item["issued"]["date-parts"])
        assert text in stated, (found.key, text, stated)


def test_where_the_sources_disagree_on_the_date_the_earliest_is_cited(client):
    # The sources give 2018 and 2017; the page's citation and the files say 2017.
    key = "pub-principles-guidelines-vulnerable-migrants"
    assert output(key).date == "2018"
    item = client.get(f"/outputs/{key}/cite.json").json()[0]
    assert item["issued"] == {"date-parts": [[2017]]}
    assert "(2017)" in client.get(f"/outputs/{key}/").content.decode()


# -- BibTeX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", REAL)
def test_bibtex_parses_back_with_a_corporate_author(client, key):
    _, entry_type, _, issued = REAL[key]
    found = output(key)
    response = client.get(f"/outputs/{key}/cite.bib")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="gmg-{key}.bib"'
    text = response.content.decode("utf-8")
    entry = parse_bibtex(text)
    assert entry.entry_type == entry_type
    assert entry.key == key  # stable: the output's key
    assert entry["title"] == found.title
    assert entry["author"] == GMG
    assert "{{Global Migration Group}}" in text  # braced twice: one corporate name
    names = bibtex_names(text)
    assert len(names) == 1 and names[0].first == [] and names[0].last == ["{" + GMG + "}"]
    assert entry["url"] == f"http://testserver/outputs/{key}/"
    publisher = "institution" if entry_type == "report" else "publisher"
    assert entry[publisher] == GMG
    fields = entry.fields_dict
    if issued is None:
        assert not {"year", "month", "date"} & set(fields)
        return
    assert entry["year"] == str(issued[0][0])
    if len(issued[0]) == 1:
        assert "month" not in fields
    else:
        assert fields["month"].value == citations.MONTHS[issued[0][1] - 1]
    iso = ["-".join(f"{n:02d}" for n in date) for date in issued]
    assert entry["date"] == "/".join(iso)


def test_bibtex_of_an_event_names_its_occasion_and_venue(client):
    text = client.get("/outputs/con-2017-12-gcm-stocktaking/cite.bib").content.decode()
    report = parse_bibtex(text)
    assert report["type"] == "Contribution to a process"
    entry = parse_bibtex(client.get("/outputs/js-2016-05-13-friends-of-migration/cite.bib").text)
    assert entry["eventtitle"] == "Inaugural Meeting of the “Friends of Migration” Group"
    assert entry["type"] == "Joint statement"


@pytest.mark.parametrize(
    "key",
    [
        "js-2011-informal-thematic-debate",  # an en dash and straight quotes
        "pub-2015-migration-employment-undaf-tool",  # Migration–Employment
        "int-2017-04-19-idm-gcm",  # IOM’s
        "ev-2016-05-13-friends-of-migration",  # "Friends of Migration"
    ],
)
def test_real_titles_survive_a_bibtex_round_trip(client, key):
    found = output(key)
    entry = parse_bibtex(client.get(f"/outputs/{key}/cite.bib").content.decode())
    assert entry["title"] == found.title


TRICKY = "Café “Migration & Development” – 100% {sic}: $5, #1, a_b, ~x, IOM’s SDGs -- Zürich"


@pytest.fixture
def tricky_output():
    """An output made through the services, whose texts hold LaTeX's special characters."""
    from gmg.registry.models import Body
    from gmg.repository.models import Output
    from gmg.repository.services import save_output

    made = Output(
        key="cite-tricky",
        body=Body.objects.get(key="gmg"),
        type="issue_brief",
        title=TRICKY,
        description="Über “quotes” & {braces}\n\nwith 50% – and a } lone brace",
        occasion="Side event {2018} & more",
        location="Genève",
        date="2018-05",
    )
    return save_output(made, by=SYSTEM)


def test_special_characters_survive_a_bibtex_round_trip(client, tricky_output):
    text = client.get("/outputs/cite-tricky/cite.bib").content.decode("utf-8")
    raw = parse_bibtex(text, decode=False)
    # Escaped for LaTeX, acronyms kept from lowercasing, UTF-8 kept as it is.
    assert r"\&" in raw["title"] and r"\%" in raw["title"] and r"\{sic\}" in raw["title"]
    assert "{SDGs}" in raw["title"] and "{IOM}" in raw["title"] and "Zürich" in raw["title"]
    # A lone brace is spelt out (it would unbalance the entry); those that pair up are \{ \}.
    assert raw["abstract"].count(r"\textbraceright{}") == 1 and r"\{braces\}" in raw["abstract"]

    entry = parse_bibtex(text)
    assert entry["title"] == TRICKY
    assert entry["abstract"] == "Über “quotes” & {braces} with 50% – and a } lone brace"
    assert entry["type"] == "Issue brief"
    assert entry["year"] == "2018" and entry["date"] == "2018-05"
    assert entry.fields_dict["month"].value == "may"

    item = client.get("/outputs/cite-tricky/cite.json").json()[0]
    assert item["title"] == TRICKY  # JSON needs no escaping of its own
    assert item["event-title"] == "Side event {2018} & more" and item["event-place"] == "Genève"
    assert item["issued"] == {"date-parts": [[2018, 5]]}
    record = parse_ris(client.get("/outputs/cite-tricky/cite.ris").content.decode("utf-8"))
    assert record["title"] == TRICKY
    assert record["date"] == "2018/05//"


# -- RIS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", REAL)
def test_ris_parses_back_with_the_stated_precision(client, key):
    _, _, ris_type, issued = REAL[key]
    found = output(key)
    response = client.get(f"/outputs/{key}/cite.ris")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="gmg-{key}.ris"'
    record = parse_ris(response.content.decode("utf-8"))
    assert record["type_of_reference"] == ris_type and ris_type in RIS_TYPES
    assert record["title"] == found.title
    assert record["authors"] == [GMG]  # no comma: one corporate name
    assert record["publisher"] == GMG
    assert record["urls"] == [f"http://testserver/outputs/{key}/"]
    assert record["id"] == key
    if issued is None:
        assert "year" not in record and "date" not in record
        return
    start = issued[0]
    assert record["year"] == str(start[0])
    # DA is YYYY/MM/DD/ with what is not stated left empty; a year alone is PY only.
    if len(start) == 1:
        assert "date" not in record
    else:
        day = f"{start[2]:02d}" if len(start) == 3 else ""
        assert record["date"] == f"{start[0]}/{start[1]:02d}/{day}/"


def test_ris_gives_the_access_date_and_the_occasion_of_a_statement(client):
    record = parse_ris(client.get("/outputs/js-2016-05-13-friends-of-migration/cite.ris").text)
    assert record["secondary_title"] == "Inaugural Meeting of the “Friends of Migration” Group"
    assert record["type_of_work"] == "Joint statement"
    year, month, day = record["access_date"].split("/")
    assert len(year) == 4 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31


# -- the output page --------------------------------------------------------------------------


def test_output_page_links_the_files_and_carries_citation_meta_tags(client):
    page = client.get("/outputs/js-2016-05-13-friends-of-migration/").content.decode()
    base = "/outputs/js-2016-05-13-friends-of-migration/cite"
    head = page[: page.index("</head>")]
    for ext, media_type in [
        ("json", "application/vnd.citationstyles.csl+json"),
        ("bib", "application/x-bibtex"),
        ("ris", "application/x-research-info-systems"),
    ]:
        assert f'<link rel="alternate" type="{media_type}"' in head
        assert f'href="{base}.{ext}"' in head
        assert f'<a href="{base}.{ext}"' in page[page.index('id="cite-h"') :]
    assert '<meta name="citation_author" content="Global Migration Group">' in head
    assert '<meta name="citation_publication_date" content="2016/05/13">' in head
    assert '<meta name="citation_publisher" content="Global Migration Group">' in head
    assert '<meta name="DC.date" content="2016-05-13">' in head
    assert (
        '<meta name="citation_title" content="Joint statement at the Inaugural Meeting of the '
        '&quot;Friends of Migration&quot; Group">'
    ) in head
    assert "<script>" not in page  # nothing inline: the CSP stays as it is

    year_only = client.get("/outputs/pub-2010-mainstreaming-handbook/").content.decode()
    assert '<meta name="citation_publication_date" content="2010">' in year_only
    undated = client.get("/outputs/ib-2017-01-human-rights-inclusion/").content.decode()
    assert "citation_publication_date" not in undated
    assert '<meta name="citation_technical_report_institution"' in undated


# -- the API ----------------------------------------------------------------------------------


def test_api_gives_the_three_formats(client):
    base = "/api/outputs/con-2017-12-gcm-stocktaking/citation"
    default = client.get(base)
    assert default.status_code == 200 and default["Content-Type"].startswith("application/json")
    items = default.json()
    check_csl_item(items[0])
    assert items[0]["issued"] == {"date-parts": [[2017, 12]]}
    assert client.get(base + "?format=csl-json").json() == items

    bib = client.get(base + "?format=bibtex")
    assert bib.status_code == 200
    assert bib["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert parse_bibtex(bib.content.decode())["date"] == "2017-12"

    ris = client.get(base + "?format=ris")
    assert ris["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert parse_ris(ris.content.decode())["date"] == "2017/12//"


@pytest.mark.parametrize("bad", ["xml", "BibTeX", "", "csl"])
def test_api_refuses_an_unknown_format_with_a_message(client, bad):
    response = client.get(f"/api/outputs/con-2017-12-gcm-stocktaking/citation?format={bad}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("invalid input: format:")
    assert "'csl-json', 'bibtex' or 'ris'" in detail


def test_unknown_outputs_are_404(client):
    for path in ["/outputs/no-such-output/cite.bib", "/outputs/no-such-output/cite.json"]:
        assert client.get(path).status_code == 404
    response = client.get("/api/outputs/no-such-output/citation?format=ris")
    assert response.status_code == 404
    assert response.json() == {"detail": "no output 'no-such-output'"}


def test_render_names_the_formats_it_knows():
    with pytest.raises(ValueError, match="csl-json, bibtex, ris"):
        citations.render({}, "endnote")


# -- visibility -------------------------------------------------------------------------------


@pytest.fixture
def members_only(settings):
    """An output only the GMG's members see, and a UNICEF focal point signed in."""
    from gmg.registry.models import Body
    from gmg.repository.models import Output
    from gmg.repository.services import save_output
    from tests.members.conftest import PEOPLE, make_person, signed_in_client

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    made = Output(
        key="cite-members-only",
        body=Body.objects.get(key="gmg"),
        type="briefing_note",
        title="A note for the members",
        date="2018-03",
        visibility="body",
    )
    save_output(made, by=SYSTEM)
    entity, roles = PEOPLE["unicef"]
    member = make_person("unicef", entity, roles, totp=False)
    return made.key, signed_in_client(member)


def test_a_members_only_citation_is_404_for_the_public_and_given_to_members(members_only):
    key, member = members_only
    anonymous = Client()
    paths = [f"/outputs/{key}/cite.{ext}" for ext in ("json", "bib", "ris")]
    paths += [f"/api/outputs/{key}/citation?format={f}" for f in citations.FORMATS]
    for path in paths:
        refused = anonymous.get(path)
        assert refused.status_code == 404, path
        assert b"A note for the members" not in refused.content
        given = member.get(path)
        assert given.status_code == 200, path
        assert b"A note for the members" in given.content
    assert parse_bibtex(member.get(f"/outputs/{key}/cite.bib").text)["month"] == "mar"


# -- queries ----------------------------------------------------------------------------------

# Measured as 10 on SQLite and on PostgreSQL, whatever the output and the format: the
# output with what its page shows (repository.output_detail: the row, then entities,
# processes, themes, title variants, dates, links, related, sources and their documents).
# Anonymous, so no session; the API's anonymous read adds none.
CITE_QUERIES = 10


@pytest.mark.parametrize("ext", ["json", "bib", "ris"])
def test_cite_files_take_a_fixed_number_of_queries(client, django_assert_max_num_queries, ext):
    for key in ("pub-2017-data-handbook", "js-2016-05-13-friends-of-migration"):
        with django_assert_max_num_queries(CITE_QUERIES):
            assert client.get(f"/outputs/{key}/cite.{ext}").status_code == 200


@pytest.mark.parametrize("format", list(citations.FORMATS))
def test_api_citation_takes_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, format
):
    with django_assert_max_num_queries(CITE_QUERIES):
        response = client.get(f"/api/outputs/pub-2017-data-handbook/citation?format={format}")
    assert response.status_code == 200
