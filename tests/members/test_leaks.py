"""The leak test: members-only records never reach anyone who may not see them.

Records at every restricted level (outputs, an event, documents with a file, notes,
meetings) carry a marker unique to their audience, e.g. ``ZQXLEAKGROUP``, in their title,
description, text, file name and file content; their keys and uids are recorded too. A
breadth-first crawler walks the site from ``/`` and from a seed list (sitemaps, the Atom
feed, every iCalendar feed, the OpenAPI schema and every GET endpoint of the API, searches
for the markers, direct URLs of the hidden records) as the public, as an account with no
role, and as a member of another working group (by session, and by API token). No response
may hold a marker or an identifier of a record the viewer may not see. Every response that
lists or counts must also be what it was before the hidden records existed, byte for byte
(but the CSRF token, and the order of relevance-ranked results): totals, facet counts, year
lists, "did you mean" suggestions and 404 pages may not change. Exports (``export_bundle``
with the viewer, and ``gmg export``) are checked the same way.

Searches, facet counts and suggestions are checked again once per search engine of the
database, and the order of relevance-ranked results on its own. Positive controls show the
crawl finds the markers wherever someone entitled looks (the secretariat; a GMG member for
body-level records; everyone for a public record), so a broken crawler fails.

A query echoes its own words back ("12 outputs for “zqxleakgroup”"). Markers are stored in
upper case and searched in lower case: where the request's URL holds a marker, the response
is checked for the upper-case (stored) form only, and an identifier sent in the URL is not
looked for in that response.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from gmg.accounts.services import Actor
from gmg.core.services import save_record
from gmg.core.viewer import ANONYMOUS
from gmg.governance.models import AgendaItem, Meeting
from gmg.registry.models import Body, Entity
from gmg.repository import search
from gmg.repository.models import Document, Output, Process, Theme
from gmg.repository.services import save_output, share_document
from gmg.workgroups.models import WorkingGroup

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("leak-test")
REQUEST_CAP = 2000  # per crawl
# Recent days, so meetings are on the dashboard too; one per case, so no two visible records
# tie on their date (how engines order ties is theirs to choose, and may change on any write).
TODAY = timezone.localdate()
DAY = (TODAY - dt.timedelta(days=30)).isoformat()
YEAR = DAY[:4]
RARE_WORD = "kinkajou"  # only in planted titles
COMMON_WORDS = ("remittances", "handbook", "migration", "remittances handbook")


# -- what is planted ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One audience: the level, the body and group the records belong to, the named entities."""

    name: str
    level: str
    body: str
    group: str | None
    audience: tuple[str, ...] = ()
    stage: int = 2

    @property
    def marker(self) -> str:
        return "ZQXSHOWN" if self.level == "public" else f"ZQXLEAK{self.name.upper()}"

    def day(self, offset: int = 0) -> str:
        index = [c.name for c in CASES].index(self.name)
        return (TODAY - dt.timedelta(days=30 + 2 * index + offset)).isoformat()

    @property
    def misspelt(self) -> str:
        """The marker misspelt: a query whose "did you mean" could only come from the marker."""
        return self.marker.lower().replace("leak", "laek").replace("shown", "shwon")


SHOWN = Case("shown", "public", "gmg", "wg-data-research", stage=0)  # the positive control
CASES = (
    SHOWN,
    Case("body", "body", "gmg", "wg-data-research", stage=1),  # WFP is a GMG member
    Case("otherbody", "body", "un-network-on-migration", None),  # WFP is not a member
    Case("group", "working_group", "gmg", "wg-data-research"),
    Case("entities", "entities", "gmg", "wg-data-research", ("UNICEF",)),
    Case("secretariat", "secretariat", "gmg", "wg-data-research"),
)
BY_NAME = {c.name: c for c in CASES}
RESTRICTED = tuple(c.name for c in CASES if c.level != "public")

# Who must not see which cases, and after which planting stage their baseline is taken (the
# stages they may see are planted before it, the others after).
HIDDEN_FROM = {
    "anonymous": RESTRICTED,
    "registered": RESTRICTED,
    "wfp_mainstreaming": ("otherbody", "group", "entities", "secretariat"),
}
BASELINE_AFTER_STAGE = {"anonymous": 0, "registered": 0, "wfp_mainstreaming": 1}


def pdf(marker: str) -> SimpleUploadedFile:
    content = b"%PDF-1.4\n% " + marker.encode() + b" internal paper\n%%EOF\n"
    return SimpleUploadedFile(f"{marker}.pdf", content, content_type="application/pdf")


@dataclass
class Planted:
    outputs: list[str]
    meeting: str
    documents: list[str]  # uids, chosen before the documents exist
    text: str = ""  # a joint text in clearance

    def ids(self) -> list[str]:
        return [*self.outputs, self.meeting, *self.documents, self.text]


class Planter:
    """Plants each case's records in stages, through the write services (audited, indexed)."""

    def __init__(self, secretariat):
        self.secretariat = secretariat
        self.done: set[int] = set()
        self.saved_outputs: list[tuple[int, str]] = []
        self.records = {
            c.name: Planted(
                outputs=[f"zqxid-{c.name}-publication", f"zqxid-{c.name}-event"],
                meeting=f"zqxid-{c.name}-meeting",
                documents=[str(uuid.uuid4()), str(uuid.uuid4())],
                text=f"zqxid-{c.name}-text",
            )
            for c in CASES
        }

    def stage(self, number: int) -> None:
        assert number not in self.done
        self.done.add(number)
        for case in CASES:
            if case.stage == number:
                self._plant(case)

    def _plant(self, case: Case) -> None:
        m, ids = case.marker, self.records[case.name]
        body = Body.objects.get(key=case.body)
        group = WorkingGroup.objects.get(key=case.group) if case.group else None
        audience = list(Entity.objects.filter(acronym__in=case.audience))
        links = [
            (Entity.objects.get(acronym="IOM"), "lead"),
            (Entity.objects.get(acronym="WFP"), "partner"),
        ]
        common = dict(body=body, working_group=group, visibility=case.level)
        publication = Output(
            key=ids.outputs[0],
            type="publication",
            title=f"{m} {RARE_WORD} remittances handbook on migration data",
            description=f"{m} described: remittances, migration and data.",
            date=case.day(),
            location="Geneva",
            occasion=f"{m} launch",
            **common,
        )
        event = Output(
            key=ids.outputs[1],
            type="event",
            title=f"{m} {RARE_WORD} side event on remittances",
            description=f"{m} an event of the group.",
            date=case.day(1),
            location=f"{m} room",
            occasion=f"{m} side event",
            **common,
        )
        for output in (publication, event):
            save_output(
                output,
                by=SYSTEM,
                entity_links=links,
                processes=[Process.objects.get(key="gfmd")],
                themes=[Theme.objects.get(key="remittances")],
                audience_entities=audience,
            )
            self.saved_outputs.append((output.pk, output.key))
        if case is not SHOWN:  # the public record's page lists its related outputs
            shown = Output.objects.filter(key=self.records[SHOWN.name].outputs[0]).first()
            if shown is not None:
                shown.related.add(publication)

        def meeting_children(saved: Meeting) -> None:
            saved.audience_entities.set(audience)
            AgendaItem.objects.create(meeting=saved, title=f"{m} agenda item", notes=f"{m}")

        meeting = save_record(
            Meeting(
                key=ids.meeting,
                kind=Meeting.Kind.WORKING_LEVEL,
                title=f"{m} meeting of the group",
                date=case.day(),
                location=f"{m} room",
                summary=f"{m} summary of the meeting",
                **common,
            ),
            by=SYSTEM,
            children=meeting_children,
        )
        public_meeting = Meeting.objects.filter(body=body, visibility="public").first()
        paper = Document(
            uid=uuid.UUID(ids.documents[0]),
            title=f"{m} background paper",
            kind=Document.Kind.BACKGROUND,
            text=f"{m} summary of the paper",
            meeting=public_meeting,  # a public meeting's page lists the documents one may see
            entity=Entity.objects.get(acronym="WFP"),  # WFP's dashboard: "shared by my agency"
            uploaded_by_id=self.secretariat.user.pk,
            **common,
        )
        note = Document(
            uid=uuid.UUID(ids.documents[1]),
            title=f"{m} note",
            kind=Document.Kind.NOTE,
            text=f"{m} text of the note",
            meeting=meeting,
            entity=Entity.objects.get(acronym="WFP"),
            uploaded_by_id=self.secretariat.user.pk,
            **common,
        )
        viewer = self.secretariat.viewer()
        share_document(paper, viewer=viewer, by=SYSTEM, upload=pdf(m), audience_entities=audience)
        share_document(note, viewer=viewer, by=SYSTEM, audience_entities=audience)
        self._plant_text(case, body, group, audience)

    def _plant_text(self, case: Case, body: Body, group, audience: list) -> None:
        """A joint text with a comment, in a clearance round with an answer where the body
        has members to ask (the Network's members are not listed)."""
        from django.core.exceptions import ValidationError

        from gmg.clearance import services as clearance
        from gmg.clearance.models import JointText

        m, person = case.marker, Actor.for_user(self.secretariat.user)
        viewer = self.secretariat.viewer()
        text = clearance.start_text(
            JointText(
                key=self.records[case.name].text,
                body=body,
                working_group=group,
                kind="joint_statement",
                title=f"{m} {RARE_WORD} joint statement",
                occasion=f"{m} occasion",
                visibility=case.level,
            ),
            viewer=viewer,
            by=person,
            leads=[Entity.objects.get(acronym="IOM")],
            audience_entities=audience,
            first_draft=f"{m} first paragraph.\n\nThe second paragraph.",
        )
        version = text.versions.get()
        clearance.add_comment(
            version, viewer=viewer, by=person, kind="substantive", body=f"{m} comment", paragraph=1
        )
        try:
            round_ = clearance.open_round(
                text, viewer=viewer, by=person, deadline=timezone.now() + dt.timedelta(hours=80)
            )
        except ValidationError:
            return
        clearance.answer(
            round_,
            viewer=viewer,
            by=person,
            entity=Entity.objects.get(pk=round_.asked_links.values_list("entity_id", flat=True)[0]),
            kind="object",
            reason=f"{m} reason",
        )


@pytest.fixture
def plant(people):
    planter = Planter(people["secretariat"])
    yield planter
    # The database is rolled back after the test; the tantivy index lives on disk.
    index = search.TantivyEngine(Path(django_settings.GMG_SEARCH_INDEX_DIR))
    if index.exists():
        for pk, key in planter.saved_outputs:
            index.remove(pk, key)


# -- fetching and crawling ---------------------------------------------------------------------


@dataclass
class Page:
    status: int
    content_type: str
    body: bytes
    headers: bytes  # Location and Content-Disposition: they can leak as well


@dataclass
class Crawl:
    viewer: str
    pages: dict[str, Page] = field(default_factory=dict)
    truncated: bool = False
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.pages)


def fetch(client: Client, url: str) -> Page:
    response = client.get(url)
    # Reading a streamed response to the end closes it (the test client wraps it so that
    # closing does not close the database connection, as a direct close() would).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(
        f"{name}: {response[name]}"
        for name in ("Location", "Content-Disposition")
        if response.has_header(name)
    )
    return Page(response.status_code, response.get("Content-Type", ""), body, headers.encode())


SKIP = re.compile(r"^/(admin/|static/|accounts/sign-out/)|/(delete|revoke)/$")
SEARCH_FILTERS = {"type", "year", "entity", "role", "working_group", "process", "theme"}
HREF = re.compile(rb"""(?:href|src)\s*=\s*["']([^"']*)["']""")
LOC = re.compile(rb"<loc>\s*([^<\s]+)\s*</loc>")
API_DETAIL = {
    "/api/outputs": ("key", "/api/outputs/"),
    "/api/meetings": ("key", "/api/meetings/"),
    "/api/documents": ("uid", "/api/documents/"),
    "/api/entities": ("acronym", "/api/entities/"),
    "/api/bodies": ("key", "/api/bodies/"),
    "/api/working-groups": ("key", "/api/working-groups/"),
}


def normalise(link: str, base: str) -> str | None:
    """The site-relative URL to crawl for ``link`` found on ``base``, or None to skip it."""
    parts = urlsplit(urljoin("http://testserver" + base, link.strip()))
    if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
        return None
    path = parts.path or "/"
    if SKIP.search(path):
        return None
    query = parse_qsl(parts.query)
    if path.startswith("/accounts/"):
        query = []  # sign-in?next=... for every protected page is one page
    if path == "/outputs/" and not listing(query):
        return None
    return path + ("?" + urlencode(query) if query else "")


def listing(query: list[tuple[str, str]]) -> bool:
    """Which repository pages the crawl follows: the listing and its pages, one facet at a
    time, and a text query alone (the searches themselves are the seeds of the count test)."""
    names = [k for k, v in query if v]
    filters = [k for k in names if k in SEARCH_FILTERS]
    if "q" in names:
        return names == ["q"]
    return len(filters) <= 1 and not (filters and "page" in names)


# Pages showing one record: compared before and after only for the planted records (their
# 404s), since nothing on them counts or lists other records but `related`, which the marker
# check covers.
DETAIL = re.compile(r"^/(outputs/|api/outputs/|api/entities/)(?!zqxid-)[^/?]+/?$")


def unfold(body: bytes) -> bytes:
    """iCalendar folds long lines (RFC 5545 §3.1): a marker may be cut in two."""
    return body.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")


def api_links(url: str, data) -> list[str]:
    parts = urlsplit(url)
    path, found = parts.path, []
    if not isinstance(data, dict):
        return found
    if path == "/api/openapi.json":
        return [p for p, ops in data.get("paths", {}).items() if "get" in ops and "{" not in p]
    if path in API_DETAIL and isinstance(data.get("items"), list):
        name, prefix = API_DETAIL[path]
        found += [prefix + quote(str(item[name]), safe="") for item in data["items"]]
        if path == "/api/documents":
            found += [f"/api/meetings/{i['meeting']}" for i in data["items"] if i.get("meeting")]
    if isinstance(data.get("pages"), int) and data.get("page", 1) < data["pages"]:
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"]
        found.append(path + "?" + urlencode([*query, ("page", data["page"] + 1)]))
    if re.fullmatch(r"/api/outputs/[^/]+", path):
        found += [f"/api/outputs/{k}" for k in data.get("related", [])]
        found += [f"/api/entities/{e['entity']}" for e in data.get("entities", [])]
        if data.get("working_group"):
            found.append(f"/api/working-groups/{data['working_group']}")
    if re.fullmatch(r"/api/working-groups/[^/]+", path):
        found += [f"/api/outputs/{o['key']}" for o in data.get("outputs", [])]
    if re.fullmatch(r"/api/meetings/[^/]+", path):
        found += [f"/api/documents/{d['uid']}" for d in data.get("documents", [])]

    def strings(value) -> Iterable[str]:  # download_url and any other site path
        if isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
            yield value

    return found + list(strings(data))


def links_of(url: str, page: Page) -> list[str]:
    found: list[str] = []
    kind = page.content_type
    if "html" in kind or "xml" in kind:  # pages, the Atom feed, sitemaps
        found += [unescape(m.decode()) for m in HREF.findall(page.body)]
        found += [unescape(m.decode()) for m in LOC.findall(page.body)]
    elif "calendar" in kind:
        found += re.findall(r"^URL[^:]*:(\S+)", unfold(page.body).decode(), re.M)
    elif "json" in kind and page.body:
        try:
            found += api_links(url, json.loads(page.body))
        except ValueError:
            pass
    if page.headers.startswith(b"Location: "):
        found.append(page.headers.split(b"\n")[0][len(b"Location: ") :].decode())
    return found


def crawl(
    viewer: str,
    client: Client,
    seeds: Iterable[str],
    *,
    only: str = "",
    details: str = "all",
    cap: int = REQUEST_CAP,
) -> Crawl:
    """Breadth first from ``seeds``, following every same-site link (under ``only``).

    ``details`` says which pages of single public records (``DETAIL``) are fetched: "all",
    "pages" (the site's, not the API's) or "none"."""
    result = Crawl(viewer)
    started = time.monotonic()
    queue: deque[str] = deque()
    seen: set[str] = set()

    def add(link: str, base: str) -> None:
        url = normalise(link, base)
        if url is None or url in seen or not url.startswith(only):
            return
        seen.add(url)
        if not DETAIL.match(url) or details == "all":
            queue.append(url)
        elif details == "pages" and not url.startswith("/api/"):
            queue.append(url)

    for seed in seeds:
        add(seed, "/")
    with quiet_request_log():
        while queue:
            if len(result.pages) >= cap:
                result.truncated = True
                break
            url = queue.popleft()
            page = fetch(client, url)
            result.pages[url] = page
            for link in links_of(url, page):
                add(link, url)
    result.seconds = time.monotonic() - started
    return result


@contextmanager
def quiet_request_log():
    """The crawl asks for many pages that are, rightly, 404 or 403: no warning for each."""
    log = logging.getLogger("django.request")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


# -- seeds -------------------------------------------------------------------------------------


def search_urls() -> list[str]:
    """Searches and filters whose totals, facet counts and suggestions are compared."""
    words = [c.marker.lower() for c in CASES] + [c.misspelt for c in CASES]
    words += [RARE_WORD, "zqxleak", "zqxid", *COMMON_WORDS]
    filters = [
        ("working_group", "wg-data-research"),
        ("entity", "WFP"),
        ("entity", "IOM"),
        ("role", "partner"),
        ("year", YEAR),
        ("type", "event"),
        ("type", "publication"),
        ("process", "gfmd"),
        ("theme", "remittances"),
    ]
    urls = ["/outputs/", "/outputs/?sort=-date", "/api/outputs?facets=true&page_size=100"]
    urls += ["/api/outputs?facets=true&sort=-date&page_size=5", "/api/outputs?sort=title"]
    for word in words:
        q = quote(word)
        urls += [f"/outputs/?q={q}", f"/api/outputs?facets=true&q={q}"]
    for name, value in filters:
        urls += [f"/outputs/?{name}={value}", f"/api/outputs?facets=true&{name}={value}"]
    urls += [f"/api/outputs?facets=true&body={b}" for b in ("gmg", "un-network-on-migration")]
    urls += [
        f"/api/outputs?facets=true&from={TODAY - dt.timedelta(days=45)}&to={DAY}",
        f"/api/outputs?facets=true&q={RARE_WORD}&entity=WFP&role=partner",
        f"/outputs/?q={RARE_WORD}&type=event",
        "/events/",
        f"/events/?year={YEAR}",
    ]
    return urls


def seeds(planter: Planter) -> list[str]:
    urls = [
        "/",
        "/robots.txt",
        "/sitemap.xml",
        "/outputs/feed.atom",
        "/api/openapi.json",
        "/api/docs",
        "/members-area/",
        "/members-area/documents/",
        "/members-area/meetings/",
        "/members-area/texts/",
        "/members-area/texts/?status=in_clearance",
        "/api/texts",
        "/api/me/clearance",
        "/members-area/documents/new/",
        "/members-area/audit/",
        "/members-area/audit.csv",
        "/accounts/",
        "/accounts/tokens/",
        "/accounts/invitations/",
        "/api/outputs?page_size=100",
        "/api/documents?limit=200",
        "/api/meetings",
        "/api/working-groups",
        "/api/entities",
        "/api/bodies",
        "/api/facts",
        "/api/me",
        "/api/people",
        "/api/audit",
        f"/api/documents?working_group={BY_NAME['group'].group}",
    ]
    for body in Body.objects.values_list("key", flat=True):
        urls += [
            f"/bodies/{body}/events.ics",
            f"/api/meetings?body={body}",
            f"/api/chairs?body={body}",
            f"/api/members?body={body}&on={DAY}",
        ]
    urls += [
        f"/working-groups/{g}/events.ics"
        for g in WorkingGroup.objects.values_list("key", flat=True)
    ]
    for word in [c.marker.lower() for c in CASES] + [RARE_WORD]:
        urls += [f"/outputs/?q={word}", f"/api/outputs?facets=true&q={word}"]
        urls += [f"/members-area/documents/?q={word}", f"/api/documents?q={word}"]
    # The hidden records' own addresses: a 404 exactly like a record that does not exist.
    for case in CASES:
        ids = planter.records[case.name]
        for key in ids.outputs:
            urls += [f"/outputs/{key}/", f"/api/outputs/{key}"]
        urls += [
            f"/members-area/meetings/{ids.meeting}/",
            f"/api/meetings/{ids.meeting}",
            f"/api/documents?meeting={ids.meeting}",
            f"/members-area/documents/new/?meeting={ids.meeting}",
        ]
        urls += [
            f"/members-area/texts/{ids.text}/",
            f"/members-area/texts/{ids.text}/rounds/1/",
            f"/members-area/texts/{ids.text}/versions/1/",
            f"/members-area/texts/{ids.text}/compare/?from=1&to=1",
            f"/api/texts/{ids.text}",
            f"/api/texts/{ids.text}/rounds/1",
            f"/api/texts/{ids.text}/comments",
            f"/api/texts/{ids.text}/versions/1",
        ]
        for uid in ids.documents:
            urls += [
                f"/members-area/documents/{uid}/",
                f"/members-area/documents/{uid}/download/",
                f"/api/documents/{uid}",
            ]
    return urls


# -- checks ------------------------------------------------------------------------------------


def context(body: bytes, needle: bytes) -> str:
    at = body.lower().find(needle.lower())
    around = body[max(0, at - 100) : at + len(needle) + 100].decode(errors="replace")
    return " ".join(around.split())


def leaks(url: str, page: Page, hidden: Iterable[str], planter: Planter) -> list[str]:
    """What of the ``hidden`` cases ``page`` shows: markers, keys and uids."""
    sent = unquote(unquote(url)).lower()
    content = page.body + b"\n" + page.headers
    if "calendar" in page.content_type:
        content = unfold(content)
    lower = content.lower()
    found = []
    for name in hidden:
        case = BY_NAME[name]
        marker = case.marker.encode()
        # A marker the URL holds may be echoed in lower case: look for the stored form.
        hit = marker in content if case.marker.lower() in sent else marker.lower() in lower
        if hit:
            found.append(f"{url} [{page.status}] shows {case.marker}: …{context(content, marker)}…")
        for ident in planter.records[name].ids():
            if ident.lower() not in sent and ident.lower().encode() in lower:
                found.append(
                    f"{url} [{page.status}] names {ident} ({name}): "
                    f"…{context(content, ident.encode())}…"
                )
    return found


# Pages that change by themselves: the token list shows when each token was last used.
VOLATILE = {"/accounts/tokens/"}
CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value|data-csrf-token)="[^"]*"')
RESULTS = re.compile(rb'<ol class="outputs">.*?</ol>', re.S)


def ranked(url: str) -> bool:
    """Whether ``url`` lists results by relevance (see ``test_ranking_...`` for their order)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return (
        parts.path in ("/outputs/", "/api/outputs")
        and bool(query.get("q", "").strip())
        and query.get("sort", "relevance") == "relevance"
    )


def comparable(url: str, page: Page) -> tuple[int, bytes, bytes]:
    """What must not change: the whole response, but the CSRF token and, for a relevance
    search, the order of the results (their number, facets and suggestion stay)."""
    body = CSRF.sub(b"", page.body)
    if "json" in page.content_type and body:
        data = json.loads(body)
        if ranked(url) and isinstance(data.get("items"), list):
            data["items"] = sorted(item["key"] for item in data["items"])
        body = json.dumps(data, indent=1, sort_keys=True).encode()  # a diff line per field
    elif ranked(url):
        body = RESULTS.sub(b"[results]", body)
    return page.status, body, page.headers


def differences(before: dict[str, Page], after: dict[str, Page], viewer: str) -> list[str]:
    """Responses that changed when records this viewer may not see were added."""
    found = []
    for url in sorted(set(before) | set(after)):
        if url not in after:
            found.append(f"{viewer}: {url} was no longer reached once hidden records existed")
            continue
        if url not in before or url in VOLATILE:
            # Reached only now: through a public record's page, which the baseline crawl
            # leaves out (a link to a hidden record would name it: the marker check).
            continue
        old, new = comparable(url, before[url]), comparable(url, after[url])
        if old == new:
            continue
        if old[0] != new[0]:
            found.append(f"{viewer}: {url} status {old[0]} -> {new[0]}")
            continue
        delta = [
            line[:300]
            for line in difflib.unified_diff(
                old[1].decode(errors="replace").splitlines(),
                new[1].decode(errors="replace").splitlines(),
                lineterm="",
                n=0,
            )
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        found.append(f"{viewer}: {url} changed: " + " | ".join(delta[:8]))
    return found


def exported(viewer) -> str:
    from gmg.record.exporter import csv_tables, export_bundle

    bundle = export_bundle(viewer)
    return json.dumps(bundle, sort_keys=True) + "\n" + "\n".join(csv_tables(bundle).values())


def cli_export(tmp_path: Path) -> str:
    """``gmg export`` (json, and csv into a directory) as the command runs it."""
    from gmg.cli import cmd_export

    out = tmp_path / f"export-{uuid.uuid4().hex}"
    cmd_export(argparse.Namespace(format="json", out=str(out.with_suffix(".json"))))
    cmd_export(argparse.Namespace(format="csv", out=str(out)))
    texts = [out.with_suffix(".json").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.csv"))]
    return "\n".join(texts)


def export_leaks(label: str, text: str, hidden: Iterable[str], planter: Planter) -> list[str]:
    page = Page(200, "application/json", text.encode(), b"")
    return [f"{label}: {problem}" for problem in leaks("export", page, hidden, planter)]


def places(crawl: Crawl, case: Case, planter: Planter) -> set[str]:
    """The URLs of ``crawl`` whose response shows ``case``: its marker (as stored) or an id."""
    ids = [i.lower().encode() for i in planter.records[case.name].ids()]
    found = set()
    for url, page in crawl.pages.items():
        body = unfold(page.body) if "calendar" in page.content_type else page.body
        body += b"\n" + page.headers
        lower = body.lower()
        if case.marker.encode() in body or any(i in lower for i in ids):
            found.add(url)
    return found


def missing_places(
    crawl: Crawl, case: Case, planter: Planter, required: dict[str, str]
) -> list[str]:
    here = places(crawl, case, planter)
    if case.body != "gmg":  # the events page and the group pages are the main body's
        required = {k: v for k, v in required.items() if "events page" not in k}
        required = {k: v for k, v in required.items() if "working group" not in k}
    return [
        f"{crawl.viewer} never saw {case.marker} on {label} ({pattern})"
        for label, pattern in required.items()
        if not any(re.search(pattern, url) for url in here)
    ]


# Where a visible record shows up; the crawl must reach each for those who may see it.
PUBLIC_PLACES = {
    "the repository search page": r"^/outputs/\?q=",
    "a filtered repository page": r"^/outputs/\?(type|year|entity|role|working_group)=",
    "the output's page": r"^/outputs/zqxid-[a-z]+-publication/$",
    "the API list of outputs": r"^/api/outputs\?",
    "the API output": r"^/api/outputs/zqxid-",
    "a member page": r"^/members/[^/]+/$",
    "the working group page": r"^/working-groups/wg-data-research/$",
    "the events page": r"^/events/",
    "an iCalendar feed": r"\.ics$",
    "the API documents": r"^/api/documents",
    "the API meetings": r"^/api/meetings",
    "a download": r"/download/$",
    "a meeting page": r"^/members-area/meetings/[^/]+/$",
    "a document page": r"^/members-area/documents/[^/]+/$",
}
MEMBER_PLACES = {
    **PUBLIC_PLACES,
    "the documents list": r"^/members-area/documents/(\?|$)",
    "the dashboard": r"^/members-area/$",
    "the meetings list": r"^/members-area/meetings/$",
}
ANONYMOUS_ONLY_PLACES = {
    "the sitemap": r"^/sitemap-outputs\.xml$",
    "the Atom feed": r"^/outputs/feed\.atom$",
}


# -- the crawl ---------------------------------------------------------------------------------

CRAWLED = ("anonymous", "registered", "wfp_mainstreaming")


def test_no_hidden_record_reaches_anyone_who_may_not_see_it(
    people, clients, tokens, plant, tmp_path
):
    """Crawl as the public, as an account with no role and as a member of another working
    group, before and after the hidden records exist; then as the secretariat (control)."""
    token_client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['wfp_mainstreaming']}")
    viewers = {name: people[name].viewer() for name in CRAWLED if name in people}
    viewers["anonymous"] = ANONYMOUS
    start = seeds(plant)
    api_seeds = [u for u in start if u.startswith("/api/")]

    before: dict[str, Crawl] = {}
    before_exports: dict[str, str] = {}
    for stage in (0, 1):
        plant.stage(stage)
        for name in CRAWLED:
            if BASELINE_AFTER_STAGE[name] == stage:
                before[name] = crawl(name, clients[name], start, details="none")
                before_exports[name] = exported(viewers[name])
        if stage == 0:
            before_exports["gmg export"] = cli_export(tmp_path)
    # A token reads as the same viewer as the session: the session's baseline is the token's.
    before["wfp token"] = Crawl(
        "wfp token",
        {
            u: p
            for u, p in before["wfp_mainstreaming"].pages.items()
            if u.startswith("/api/") and u != "/api/me"  # /api/me names the token's scopes
        },
    )
    plant.stage(2)

    # Every public record's page as each viewer; the API's, as the public (the API's detail
    # of a public record is the same for all but `related`, which only the planted share).
    after = {
        name: crawl(name, clients[name], start, details="all" if name == "anonymous" else "pages")
        for name in CRAWLED
    }
    # The token's crawl covers the API's lists and the hidden records' own addresses (the
    # session's crawl reads every public record's page as this same viewer).
    after["wfp token"] = crawl("wfp token", token_client, api_seeds, only="/api/", details="none")
    hidden_from = {**HIDDEN_FROM, "wfp token": HIDDEN_FROM["wfp_mainstreaming"]}

    problems: list[str] = []
    for name, result in after.items():
        for url, page in result.pages.items():
            problems += leaks(url, page, hidden_from[name], plant)
        problems += differences(before[name].pages, result.pages, name)
        if result.truncated:
            problems.append(f"{name}: the crawl stopped at {REQUEST_CAP} requests")
    for name in CRAWLED:
        text = exported(viewers[name])
        problems += export_leaks(f"export_bundle({name})", text, hidden_from[name], plant)
        if text != before_exports[name]:
            problems.append(f"export_bundle({name}) changed when hidden records were added")
    text = cli_export(tmp_path)
    problems += export_leaks("gmg export", text, RESTRICTED, plant)
    if text != before_exports["gmg export"]:
        problems.append("gmg export changed when hidden records were added")

    # Positive controls: the same crawl finds what each viewer may see...
    control = crawl("secretariat", clients["secretariat"], start, details="none")
    for name in RESTRICTED:
        problems += missing_places(control, BY_NAME[name], plant, MEMBER_PLACES)
    secretariat_export = exported(people["secretariat"].viewer())
    problems += [
        f"export_bundle(secretariat) lacks {BY_NAME[n].marker}"
        for n in RESTRICTED
        if BY_NAME[n].marker not in secretariat_export
    ]
    problems += missing_places(after["wfp_mainstreaming"], BY_NAME["body"], plant, MEMBER_PLACES)
    problems += missing_places(after["registered"], SHOWN, plant, PUBLIC_PLACES)
    problems += missing_places(
        after["anonymous"], SHOWN, plant, {**PUBLIC_PLACES, **ANONYMOUS_ONLY_PLACES}
    )
    if BY_NAME["body"].marker not in exported(viewers["wfp_mainstreaming"]):
        problems.append("export_bundle(wfp_mainstreaming) lacks the body-level record it may see")
    # ...and it reaches every output, working group and member page, as each viewer.
    public_pages = {
        f"/outputs/{k}/"
        for k in Output.objects.filter(visibility="public").values_list("key", flat=True)
    }
    public_pages |= {
        f"/working-groups/{k}/" for k in WorkingGroup.objects.values_list("key", flat=True)
    }
    public_pages |= {
        f"/members/{s}/"
        for s in Entity.objects.filter(memberships__isnull=False).values_list("slug", flat=True)
    }
    for name in CRAWLED:
        expected = public_pages | {
            f"/outputs/{key}/"
            for case in CASES
            if case.name not in HIDDEN_FROM[name]
            for key in plant.records[case.name].outputs
        }
        reached = after[name].pages
        problems += [
            f"{name}: the crawl never reached {u}" for u in sorted(expected - set(reached))
        ]
        problems += [
            f"{name}: {u} answered {reached[u].status}"
            for u in sorted(expected & set(reached))
            if reached[u].status != 200
        ]

    report = {
        **{f"{name} (before)": c for name, c in before.items() if name != "wfp token"},
        **{f"{name} (after)": c for name, c in after.items()},
        "secretariat (control)": control,
    }
    print(f"\nleak crawl on {connection.vendor}, search engine {search.engine_name()}:")
    for label, c in report.items():
        print(f"  {label}: {c.requests} requests in {c.seconds:.1f}s")
    print(f"  total: {sum(c.requests for c in report.values())} requests")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])


# -- counts and suggestions, per search engine -------------------------------------------------


def fetch_all(client: Client, urls: Iterable[str]) -> dict[str, Page]:
    return {url: fetch(client, url) for url in urls}


def api(pages: dict[str, Page], url: str) -> dict:
    return json.loads(pages[url].body)


TOTAL = re.compile(rb'class="count">(\d+) outputs?')


def test_counts_facets_and_suggestions_do_not_reveal_hidden_outputs(engine, clients, plant):
    urls = search_urls()
    before: dict[str, dict[str, Page]] = {}
    for stage in (0, 1):
        plant.stage(stage)
        for name in CRAWLED:
            if BASELINE_AFTER_STAGE[name] == stage:
                before[name] = fetch_all(clients[name], urls)
    plant.stage(2)
    after = {name: fetch_all(clients[name], urls) for name in CRAWLED}
    control = fetch_all(clients["secretariat"], urls)

    problems: list[str] = []
    for name in CRAWLED:
        for url, page in after[name].items():
            problems += leaks(url, page, HIDDEN_FROM[name], plant)
            if page.status != 200:
                problems.append(f"{engine}/{name}: {url} answered {page.status}")
        problems += differences(before[name], after[name], name)
        # The same, said plainly for the numbers (a clearer message when they differ).
        for url in urls:
            if url.startswith("/api/outputs"):
                old, new = api(before[name], url), api(after[name], url)
                for key in ("count", "facets", "suggestion", "corrected_from"):
                    if old.get(key) != new.get(key):
                        problems.append(
                            f"{engine}/{name}: {url} {key} {old.get(key)} -> {new.get(key)}"
                        )
            elif url.startswith("/outputs/"):
                old_total = TOTAL.findall(before[name][url].body)
                new_total = TOTAL.findall(after[name][url].body)
                if old_total != new_total:
                    problems.append(f"{engine}/{name}: {url} total {old_total} -> {new_total}")
        hidden_words = {BY_NAME[n].marker.lower() for n in HIDDEN_FROM[name]}
        for case in map(BY_NAME.__getitem__, HIDDEN_FROM[name]):
            found = api(after[name], f"/api/outputs?facets=true&q={case.misspelt}")
            offered = set(search.words(found.get("suggestion") or ""))
            if found["count"] or offered & hidden_words:
                problems.append(f"{engine}/{name}: “{case.misspelt}” → {found}")

    # Positive controls: the secretariat finds every record, and is offered the right word.
    for case in CASES:
        found = api(control, f"/api/outputs?facets=true&q={case.marker.lower()}")
        if sorted(o["key"] for o in found["items"]) != sorted(plant.records[case.name].outputs):
            problems.append(f"{engine}/secretariat: q={case.marker.lower()} found {found['count']}")
        if case.marker.encode() not in control[f"/outputs/?q={case.marker.lower()}"].body:
            problems.append(f"{engine}/secretariat: the search page does not show {case.marker}")
        respelt = api(control, f"/api/outputs?facets=true&q={case.misspelt}")
        if respelt.get("suggestion") != case.marker.lower() or respelt["count"] != 2:
            problems.append(
                f"{engine}/secretariat: “{case.misspelt}” → {respelt.get('suggestion')}"
            )
    wfp = api(after["wfp_mainstreaming"], f"/api/outputs?facets=true&q={BY_NAME['body'].misspelt}")
    if wfp.get("suggestion") != BY_NAME["body"].marker.lower():
        problems.append(f"{engine}/wfp: no suggestion of the body-level word it may see: {wfp}")
    everything = api(control, "/api/outputs?facets=true&page_size=100")["count"]
    public = api(after["anonymous"], "/api/outputs?facets=true&page_size=100")["count"]
    if everything - public != 2 * len(RESTRICTED):
        problems.append(f"{engine}: the secretariat sees {everything}, the public {public}")
    print(f"\n{engine}: {len(urls)} URLs × {len(CRAWLED) * 2 + 1} fetches")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])


def ranked_keys(client: Client, word: str) -> list[str]:
    """Every result of a text search, in the order given, page after page."""
    keys, page, pages = [], 1, 1
    while page <= pages:
        found = json.loads(fetch(client, f"/api/outputs?page_size=100&page={page}&q={word}").body)
        keys += [item["key"] for item in found["items"]]
        pages, page = found["pages"], page + 1
    return keys


def test_relevance_order_does_not_depend_on_hidden_outputs(engine, clients, plant, request):
    """The order of the public's results for a text query must not move when hidden outputs
    holding the query's words are added. BM25 scores with statistics of the whole index (how
    many documents hold a word, their average length), hidden documents included, so a
    reordering tells the public that hidden outputs with those words exist. (PostgreSQL's
    ts_rank uses no index-wide statistics.)"""
    if engine == "tantivy":
        # A known limitation, documented in docs/data-model.md: tantivy's BM25 counts hidden
        # documents in its statistics. strict: the day it stops failing, this says so.
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="tantivy's BM25 statistics include hidden outputs (known side channel)",
            )
        )
    words = [quote(word) for word in COMMON_WORDS]
    plant.stage(0)
    plant.stage(1)
    before = {word: ranked_keys(clients["anonymous"], word) for word in words}
    plant.stage(2)
    moved = []
    for word, old in before.items():
        new = ranked_keys(clients["anonymous"], word)
        assert sorted(old) == sorted(new), word  # the same results: only their order may move
        if old != new:
            first = next(i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b)
            was, now = old[first : first + 3], new[first : first + 3]
            moved.append(f"{engine}: q={word}: from result {first + 1}: {was} -> {now}")
    assert not moved, "the order of public results moved:\n" + "\n".join(moved)
