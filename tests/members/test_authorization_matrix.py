"""The authorisation matrix: every URL and API operation, times every role plus anonymous.

Each row of ``MATRIX`` is one concrete request (a real key of the shipped record, or a
document, meeting or spare record made for the test through the services) and the roles
allowed to make it; everyone else is denied. The roles are those of ``conftest.py``
(secretariat, unicef, fao_data, wfp_mainstreaming, registered) plus ``anonymous``; API rows
are run both with the person's signed-in session and with their personal token (Bearer),
except reads open to everyone, where who calls does not matter.

- allowed: a 2xx, or a redirect that is not to the sign-in page; a write must have written
  (a new audit entry: every write of the platform goes through an audited service);
- denied: 401, 403 or 404, or a redirect to the sign-in page; a write must have written
  nothing. HTML forms (``shown_in_page``) may also answer a refusal with the page and a
  message, as long as nothing is written.

``test_every_route_has_a_row`` walks the URL resolver and the OpenAPI document: a new
endpoint without a row fails the suite, and so does a row naming a route that is gone. The
back office (Django admin) is covered by families of routes (site views, the views of each
registered model, object redirects, the catch-all), each with representative rows, and every
back-office URL must belong to one of them.

Beside the matrix: a session write to the API needs the CSRF token (a Bearer token does not),
a token acts only within its scopes, an unknown or revoked token is refused, and the
secretariat role grants nothing without the second factor.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django_otp import DEVICE_ID_SESSION_KEY

from tests.members.conftest import PEOPLE, ROLES, SYSTEM, Member, make_person, signed_in_client

pytestmark = [pytest.mark.django_db]

ANONYMOUS = "anonymous"
ALL_ROLES = (*ROLES, ANONYMOUS)

EVERYONE = frozenset(ALL_ROLES)
SIGNED_IN = frozenset(ROLES)
MEMBERS = frozenset({"secretariat", "unicef", "fao_data", "wfp_mainstreaming"})
DATA_GROUP = frozenset({"secretariat", "fao_data"})  # wg-data-research
SECRETARIAT = frozenset({"secretariat"})
NOBODY: frozenset[str] = frozenset()

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
METHODS = {"GET", *UNSAFE}
SIGN_IN_PATHS = {"/accounts/sign-in/", "/admin/login/"}  # the back office's login sends there
UPLOAD = "<a small text file>"  # replaced by a fresh upload in each request


@dataclass(frozen=True)
class Row:
    """One request and the roles allowed to make it.

    ``route`` names the route (a URL pattern, or ``METHOD /api/path`` for an API operation);
    ``path`` and ``data`` may name things made for the test in braces (see ``BUILDERS``).
    """

    route: str
    method: str
    path: str
    allowed: frozenset[str]
    label: str = ""
    data: dict | None = None
    encoding: str = "json"  # json, or form (urlencoded / multipart, as a browser sends)
    writes: bool | None = None  # default: unsafe methods write
    shown_in_page: bool = False
    follow: bool = False

    @property
    def tokens(self) -> bool:
        """Also run with Bearer tokens: where who calls matters (not for public reads)."""
        return self.allowed != EVERYONE or self.method != "GET" or self.path == "/api/me"

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.label}]" if self.label else "")

    @property
    def is_api(self) -> bool:
        return self.route.split(" ", 1)[0] in METHODS

    @property
    def is_write(self) -> bool:
        return self.method in UNSAFE if self.writes is None else self.writes


def page(path: str, allowed: frozenset[str], route: str | None = None, **kw) -> Row:
    """A GET of a Django page whose pattern is ``route`` (the path itself by default)."""
    return Row(route=route or path, method="GET", path=path, allowed=allowed, **kw)


def form(path: str, allowed: frozenset[str], route: str, data: dict | None = None, **kw) -> Row:
    return Row(
        route=route, method="POST", path=path, allowed=allowed, data=data, encoding="form", **kw
    )


def api(method: str, path: str, allowed: frozenset[str], route: str | None = None, **kw) -> Row:
    """An API operation; ``route`` is ``path`` (without its query) unless given."""
    route = route or urlsplit(path).path
    return Row(route=f"{method} {route}", method=method, path=path, allowed=allowed, **kw)


SITE = [
    page("/", EVERYONE),
    page("/members/", EVERYONE),
    page("/members/unicef/", EVERYONE, route="/members/<slug:slug>/"),
    page("/governance/", EVERYONE),
    page("/working-groups/", EVERYONE),
    page("/working-groups/wg-data-research/", EVERYONE, route="/working-groups/<slug:key>/"),
    page(
        "/working-groups/wg-data-research/events.ics",
        EVERYONE,
        route="/working-groups/<slug:key>/events.ics",
    ),
    page("/bodies/gmg/events.ics", EVERYONE, route="/bodies/<slug:key>/events.ics"),
    page("/outputs/", EVERYONE),
    page("/outputs/feed.atom", EVERYONE),
    page("/outputs/pub-2017-data-handbook/", EVERYONE, route="/outputs/<slug:key>/"),
    page(
        "/outputs/pub-2017-data-handbook/cite.json",
        EVERYONE,
        route="/outputs/<slug:key>/cite.json",
    ),
    page(
        "/outputs/pub-2017-data-handbook/cite.bib",
        EVERYONE,
        route="/outputs/<slug:key>/cite.bib",
    ),
    page(
        "/outputs/pub-2017-data-handbook/cite.ris",
        EVERYONE,
        route="/outputs/<slug:key>/cite.ris",
    ),
    page("/events/", EVERYONE),
    page("/data/", EVERYONE),
    page("/data/gmg-record.zip", EVERYONE),
    page("/reports/", EVERYONE),
    page("/reports/gmg/final/", EVERYONE, route="/reports/<slug:body>/final/"),
    page("/reports/gmg/final.pdf", EVERYONE, route="/reports/<slug:body>/final.pdf"),
    page("/reports/gmg/2016/", EVERYONE, route="/reports/<slug:body>/<int:year>/"),
    page("/reports/gmg/2016.pdf", EVERYONE, route="/reports/<slug:body>/<int:year>.pdf"),
    page("/sitemap.xml", EVERYONE),
    page("/sitemap-pages.xml", EVERYONE, route="/sitemap-<section>.xml"),
    page("/robots.txt", EVERYONE),
]

ACCOUNTS = [
    page("/accounts/", SIGNED_IN),
    page("/accounts/sign-in/", EVERYONE),
    # The code step follows the password step; without one it sends you back to sign in.
    page("/accounts/sign-in/code/", NOBODY, label="no password step pending"),
    Row(
        route="/accounts/sign-out/",
        method="POST",
        path="/accounts/sign-out/",
        allowed=EVERYONE,
        encoding="form",
        writes=False,
    ),
    page("/accounts/two-factor/", SIGNED_IN),
    page(
        "/accounts/invitation/{invitation_secret}/",
        EVERYONE,
        route="/accounts/invitation/<str:secret>/",
    ),
    page("/accounts/tokens/", SIGNED_IN),
    # Tokens are revoked by their owner (the secretariat revokes through the back office).
    form(
        "/accounts/tokens/{fao_token}/revoke/",
        frozenset({"fao_data"}),
        route="/accounts/tokens/<str:prefix>/revoke/",
        label="fao_data's token",
    ),
    page("/accounts/invitations/", SECRETARIAT),
    form(
        "/accounts/invitations/",
        SECRETARIAT,
        route="/accounts/invitations/",
        data={
            "email": "authz-form-invitee@example.org",
            "name": "Form Invitee",
            "entity": "IOM",
            "roles": ["focal_point"],
        },
        label="invite",
    ),
    form(
        "/accounts/invitations/{invitation_pk}/revoke/",
        SECRETARIAT,
        route="/accounts/invitations/<int:pk>/revoke/",
    ),
    page("/accounts/password-reset/", EVERYONE),
    page("/accounts/password-reset/sent/", EVERYONE),
    page(
        "/accounts/password-reset/{reset_uid}/{reset_token}/",
        EVERYONE,
        route="/accounts/password-reset/<uidb64>/<token>/",
        label="a valid link",
    ),
    page("/accounts/password-reset/done/", EVERYONE),
    form("/accounts/mail/", SIGNED_IN, route="/accounts/mail/", data={"digest": "1"}),
]

DOCUMENT = "/members-area/documents/<str:uid>/"
TEXT_PAGE = "/members-area/texts/<slug:key>/"
TEXT_LEADS = frozenset({"secretariat", "unicef"})  # UNICEF leads the matrix's texts
TEXT_DRAFTERS = frozenset({"secretariat", "unicef", "fao_data"})  # and fao_data drafts {text}
MEETING = "/members-area/meetings/<slug:key>/"
KEEPERS = frozenset({"secretariat", "unicef"})  # of wg-human-rights-gender's meetings
HRG_MEETING_FORM = {
    "title": "A meeting of the group",
    "kind": "working_level",
    "date": "2018-05",
    "body": "gmg",
    "working_group": "wg-human-rights-gender",
    "visibility": "body",
}
MEMBERS_AREA = [
    page("/members-area/", SIGNED_IN),
    page("/members-area/documents/", SIGNED_IN),
    page("/members-area/documents/new/", SIGNED_IN),
    form(
        "/members-area/documents/new/",
        DATA_GROUP,
        route="/members-area/documents/new/",
        data={
            "title": "A note for the data group",
            "kind": "note",
            "text": "Shared by the authorisation matrix.",
            "body": "gmg",
            "working_group": "wg-data-research",
            "visibility": "working_group",
        },
        shown_in_page=True,  # the form says who may share where
        label="a note to wg-data-research",
    ),
    page("/members-area/documents/{public_doc}/", EVERYONE, route=DOCUMENT, label="public"),
    page("/members-area/documents/{body_doc}/", MEMBERS, route=DOCUMENT, label="GMG members"),
    page("/members-area/documents/{wg_doc}/", DATA_GROUP, route=DOCUMENT, label="data group"),
    page(
        "/members-area/documents/{wg_doc}/download/",
        DATA_GROUP,
        route=DOCUMENT + "download/",
        label="data group",
    ),
    form(
        "/members-area/documents/{wg_doc}/delete/",
        DATA_GROUP,  # the secretariat, and fao_data who shared it
        route=DOCUMENT + "delete/",
        label="shared by fao_data, data group",
    ),
    form(
        "/members-area/documents/{body_doc}/delete/",
        frozenset({"secretariat", "unicef"}),  # others who see it may not delete it
        route=DOCUMENT + "delete/",
        shown_in_page=True,
        label="shared by unicef, GMG members",
    ),
    page("/members-area/meetings/", SIGNED_IN),
    # Meeting pages are kept by the secretariat, the chair in office (none: the GMG has
    # ended) and a group's co-chairs (UNICEF co-chairs wg-human-rights-gender).
    page("/members-area/meetings/new/", KEEPERS),
    form(
        "/members-area/meetings/new/",
        KEEPERS,
        route="/members-area/meetings/new/",
        data=HRG_MEETING_FORM,
        label="a meeting of wg-human-rights-gender",
    ),
    form(
        "/members-area/meetings/new/",
        SECRETARIAT,
        route="/members-area/meetings/new/",
        data={**HRG_MEETING_FORM, "kind": "other", "working_group": "", "visibility": "body"},
        shown_in_page=True,  # a co-chair is told in the form that this is not theirs to keep
        label="a GMG meeting",
    ),
    page("/members-area/meetings/{hrg_meeting}/edit/", KEEPERS, route=MEETING + "edit/"),
    form(
        "/members-area/meetings/{hrg_meeting}/edit/",
        KEEPERS,
        route=MEETING + "edit/",
        data={**HRG_MEETING_FORM, "title": "Renamed by the authorisation matrix"},
    ),
    page(
        "/members-area/meetings/mtg-2017-04-principals/",
        EVERYONE,
        route=MEETING,
        label="public",
    ),
    page(
        "/members-area/meetings/{wg_meeting}/",
        DATA_GROUP,
        route=MEETING,
        label="data group",
    ),
    page("/members-area/audit/", SECRETARIAT),
    page("/members-area/audit.csv", SECRETARIAT),
    # Joint texts (see TEXT_LEADS, TEXT_DRAFTERS and the builders below).
    page("/members-area/texts/", SIGNED_IN),
    page("/members-area/texts/new/", MEMBERS),  # Principals and focal points, the secretariat
    form(
        "/members-area/texts/new/",
        TEXT_LEADS,
        route="/members-area/texts/new/",
        data={
            "title": "A message from the authorisation matrix",
            "kind": "message",
            "body": "gmg",
            "language": "en",
            "leads": ["UNICEF"],
            "visibility": "body",
            "text": "Drafted by the authorisation matrix.",
        },
        shown_in_page=True,  # others are told their entity must lead it
        label="led by UNICEF",
    ),
    page(
        "/members-area/texts/calendar/{fao_calendar}.ics",
        EVERYONE,  # the address is the credential (calendar applications cannot sign in)
        route="/members-area/texts/calendar/<str:token>.ics",
    ),
    page("/members-area/texts/{text}/", MEMBERS, route=TEXT_PAGE),
    page("/members-area/texts/{wg_text}/", DATA_GROUP, route=TEXT_PAGE, label="data group"),
    page("/members-area/texts/{text}/edit/", TEXT_LEADS, route=TEXT_PAGE + "edit/"),
    form(
        "/members-area/texts/{text}/edit/",
        TEXT_LEADS,
        route=TEXT_PAGE + "edit/",
        data={
            "kind": "joint_statement",
            "occasion": "Checked by the authorisation matrix",
            "language": "en",
            "leads": ["UNICEF"],
            "visibility": "body",
        },
    ),
    page(
        "/members-area/texts/{text}/versions/new/",
        TEXT_DRAFTERS,
        route=TEXT_PAGE + "versions/new/",
    ),
    form(
        "/members-area/texts/{text}/versions/new/",
        TEXT_DRAFTERS,
        route=TEXT_PAGE + "versions/new/",
        data={"title": "Joint statement authz-text", "text": "A second version, by the matrix."},
    ),
    page(
        "/members-area/texts/{text}/versions/1/",
        MEMBERS,
        route=TEXT_PAGE + "versions/<int:number>/",
    ),
    form(
        "/members-area/texts/{text}/versions/1/comments/",
        MEMBERS,
        route=TEXT_PAGE + "versions/<int:number>/comments/",
        data={"kind": "editorial", "body": "A comma, says the matrix.", "paragraph": "1"},
    ),
    form(
        "/members-area/texts/{text}/comments/{text_comment}/resolution/",
        TEXT_DRAFTERS,
        route=TEXT_PAGE + "comments/<int:comment_id>/resolution/",
        data={"resolution": "accepted"},
        shown_in_page=True,
        label="wfp_mainstreaming's comment",
    ),
    page(
        "/members-area/texts/{text}/compare/?from=1&to=1",
        MEMBERS,
        route=TEXT_PAGE + "compare/",
    ),
    form(
        "/members-area/texts/{text}/rounds/",
        TEXT_LEADS,
        route=TEXT_PAGE + "rounds/",
        data={"deadline": "{deadline_local}", "time_zone": "UTC"},
        shown_in_page=True,
    ),
    page(
        "/members-area/texts/{round_text}/rounds/1/",
        MEMBERS,
        route=TEXT_PAGE + "rounds/<int:number>/",
    ),
    form(
        "/members-area/texts/{round_text}/rounds/1/",
        TEXT_LEADS,  # UNICEF's focal point, and the secretariat on UNICEF's behalf
        route=TEXT_PAGE + "rounds/<int:number>/",
        data={"entity": "UNICEF", "kind": "clear"},
        shown_in_page=True,
        label="for UNICEF",
    ),
    form(
        "/members-area/texts/{broken_text}/rounds/1/next-step/",
        TEXT_LEADS,
        route=TEXT_PAGE + "rounds/<int:number>/next-step/",
        data={"step": "returned", "note": "Returned by the authorisation matrix."},
        shown_in_page=True,
        label="silence broken",
    ),
    form(
        "/members-area/texts/{adopted_text}/publication/",
        SECRETARIAT,
        route=TEXT_PAGE + "publication/",
        data={"visibility": "public"},
        shown_in_page=True,
        label="adopted",
    ),
    form(
        "/members-area/texts/{text}/withdrawal/",
        TEXT_LEADS,
        route=TEXT_PAGE + "withdrawal/",
        data={"reason": "Withdrawn by the authorisation matrix."},
        shown_in_page=True,
    ),
    form(
        "/members-area/meetings/mtg-2017-04-principals/text-decisions/",
        SECRETARIAT,  # no chair is in force: the GMG has ended
        route=MEETING + "text-decisions/",
        data={"text": "{referred_text}", "outcome": "noted"},
        shown_in_page=True,
        label="a referred text",
    ),
    # Reports: the members-only variants and the forewords are the secretariat's.
    page("/members-area/reports/", SECRETARIAT),
    form(
        "/members-area/reports/",
        SECRETARIAT,
        route="/members-area/reports/",
        data={"body": "gmg", "report": "final", "text": "A foreword from the matrix."},
    ),
    page(
        "/members-area/reports/gmg/final/",
        SECRETARIAT,
        route="/members-area/reports/<slug:body>/final/",
    ),
    page(
        "/members-area/reports/gmg/final.pdf",
        SECRETARIAT,
        route="/members-area/reports/<slug:body>/final.pdf",
    ),
    page(
        "/members-area/reports/gmg/2016/",
        SECRETARIAT,
        route="/members-area/reports/<slug:body>/<int:year>/",
    ),
    page(
        "/members-area/reports/gmg/2016.pdf",
        SECRETARIAT,
        route="/members-area/reports/<slug:body>/<int:year>.pdf",
    ),
]

API_PAGES = [
    page("/api/openapi.json", EVERYONE),
    page("/api/docs", EVERYONE),
    page("/api/", NOBODY, label="a 404 for everyone"),
]

TEXT = "/api/texts/{key}"

API = [
    # registry
    api("GET", "/api/bodies", EVERYONE),
    api(
        "POST",
        "/api/bodies",
        SECRETARIAT,
        data={"key": "authz-new-body", "name": "Authorisation test body"},
    ),
    api("GET", "/api/bodies/gmg", EVERYONE, route="/api/bodies/{key}"),
    api(
        "PATCH",
        "/api/bodies/gmg",
        SECRETARIAT,
        route="/api/bodies/{key}",
        data={"membership_note": "Checked by the authorisation matrix."},
    ),
    api("DELETE", "/api/bodies/{spare_body}", SECRETARIAT, route="/api/bodies/{key}"),
    api("GET", "/api/entities", EVERYONE),
    api(
        "POST",
        "/api/entities",
        SECRETARIAT,
        data={"acronym": "AUTHZNEW", "name": "Authorisation test entity", "kind": "other"},
    ),
    api("GET", "/api/entities/UNICEF", EVERYONE, route="/api/entities/{acronym}"),
    api(
        "PATCH",
        "/api/entities/{spare_entity}",
        SECRETARIAT,
        route="/api/entities/{acronym}",
        data={"name": "Renamed spare entity"},
    ),
    api("DELETE", "/api/entities/{spare_entity}", SECRETARIAT, route="/api/entities/{acronym}"),
    api("GET", "/api/members?body=gmg&on=2017-06-01", EVERYONE),
    api("GET", "/api/facts?body=gmg", EVERYONE),
    api(
        "POST",
        "/api/memberships",
        SECRETARIAT,
        data={"body": "gmg", "entity": "{spare_entity}", "joined": "2012"},
    ),
    api(
        "PATCH",
        "/api/memberships/{unicef_membership}",
        SECRETARIAT,
        route="/api/memberships/{membership_id}",
        data={"note": "Checked by the authorisation matrix."},
    ),
    api(
        "DELETE",
        "/api/memberships/{spare_membership}",
        SECRETARIAT,
        route="/api/memberships/{membership_id}",
    ),
    # governance
    api("GET", "/api/chairs?body=gmg", EVERYONE),
    api(
        "POST",
        "/api/chair-terms",
        SECRETARIAT,
        data={
            "key": "authz-new-term",
            "body": "gmg",
            "start": "2011-01",
            "end": "2011-02",
            "chairs": ["UNICEF"],
        },
    ),
    api(
        "PATCH",
        "/api/chair-terms/gmg-2006-h1",
        SECRETARIAT,
        route="/api/chair-terms/{key}",
        data={"theme": "Checked by the authorisation matrix"},
    ),
    api("DELETE", "/api/chair-terms/{spare_term}", SECRETARIAT, route="/api/chair-terms/{key}"),
    api("GET", "/api/meetings", EVERYONE),
    # The GMG has ended: no chair term is in force, so no member keeps its meetings...
    api(
        "POST",
        "/api/meetings",
        SECRETARIAT,
        data={
            "key": "mtg-authz-new",
            "body": "gmg",
            "kind": "other",
            "title": "Authorisation check",
            "date": "2018-05",
            "visibility": "body",
        },
        label="a GMG meeting",
    ),
    # ...but a working group's co-chairs keep the group's (UNICEF co-chairs this one).
    api(
        "POST",
        "/api/meetings",
        frozenset({"secretariat", "unicef"}),
        data={
            "key": "mtg-authz-hrg",
            "body": "gmg",
            "kind": "working_level",
            "title": "Authorisation check of the group",
            "date": "2018-05",
            "working_group": "wg-human-rights-gender",
            "visibility": "working_group",
        },
        label="a meeting of wg-human-rights-gender",
    ),
    api("GET", "/api/meetings/{wg_meeting}", DATA_GROUP, route="/api/meetings/{key}"),
    api(
        "PATCH",
        "/api/meetings/mtg-2017-04-principals",
        SECRETARIAT,
        route="/api/meetings/{key}",
        data={"summary": "Checked by the authorisation matrix."},
    ),
    api("DELETE", "/api/meetings/{body_meeting}", SECRETARIAT, route="/api/meetings/{key}"),
    # working groups
    api("GET", "/api/working-groups", EVERYONE),
    api(
        "POST",
        "/api/working-groups",
        SECRETARIAT,
        data={
            "key": "tf-authz-new",
            "body": "gmg",
            "kind": "task_force",
            "name": "Authorisation task force",
        },
    ),
    api("GET", "/api/working-groups/wg-data-research", EVERYONE, route="/api/working-groups/{key}"),
    api(
        "PATCH",
        "/api/working-groups/{spare_group}",
        SECRETARIAT,
        route="/api/working-groups/{key}",
        data={"mandate": "Checked by the authorisation matrix."},
    ),
    api(
        "DELETE",
        "/api/working-groups/{spare_group}",
        SECRETARIAT,
        route="/api/working-groups/{key}",
    ),
    # repository
    api("GET", "/api/outputs?q=migration+data", EVERYONE),
    api(
        "POST",
        "/api/outputs",
        SECRETARIAT,
        data={
            "key": "authz-new-output",
            "body": "gmg",
            "type": "publication",
            "title": "Authorisation test output",
            "date": "2018",
        },
    ),
    api("GET", "/api/outputs/pub-2017-data-handbook", EVERYONE, route="/api/outputs/{key}"),
    api(
        "GET",
        "/api/outputs/pub-2017-data-handbook/citation?format=bibtex",
        EVERYONE,
        route="/api/outputs/{key}/citation",
    ),
    api(
        "PATCH",
        "/api/outputs/{spare_output}",
        SECRETARIAT,
        route="/api/outputs/{key}",
        data={"description": "Checked by the authorisation matrix."},
    ),
    api("DELETE", "/api/outputs/{spare_output}", SECRETARIAT, route="/api/outputs/{key}"),
    api("GET", "/api/documents", EVERYONE),
    api(
        "POST",
        "/api/documents",
        MEMBERS,
        data={
            "title": "A note for the GMG",
            "kind": "note",
            "text": "Shared by the authorisation matrix.",
            "body": "gmg",
            "visibility": "body",
        },
        encoding="form",
        label="a note to the GMG's members",
    ),
    api(
        "POST",
        "/api/documents",
        DATA_GROUP,
        data={
            "title": "A paper for the data group",
            "body": "gmg",
            "working_group": "wg-data-research",
            "visibility": "working_group",
            "file": UPLOAD,
        },
        encoding="form",
        label="a file to wg-data-research",
    ),
    api("GET", "/api/documents/{wg_doc}", DATA_GROUP, route="/api/documents/{uid}"),
    api("DELETE", "/api/documents/{wg_doc}", DATA_GROUP, route="/api/documents/{uid}"),
    # accounts
    api("GET", "/api/me", EVERYONE),
    api("GET", "/api/people", SECRETARIAT),
    api(
        "PUT",
        "/api/people/{registered_email}/roles",
        SECRETARIAT,  # nobody grants themselves a role
        route="/api/people/{email}/roles",
        data={"entity": "IOM", "roles": [{"role": "focal_point"}]},
    ),
    api(
        "POST",
        "/api/invitations",
        SECRETARIAT,
        data={
            "email": "authz-api-invitee@example.org",
            "name": "Api Invitee",
            "entity": "IOM",
            "roles": [{"role": "focal_point"}],
        },
    ),
    api("GET", "/api/audit", SECRETARIAT),
    # joint texts and their clearance: {text} is a GMG members' text led by UNICEF and drafted
    # by fao_data's person; the other texts are led by UNICEF too (see the builders).
    api("GET", "/api/texts", EVERYONE),
    api(
        "POST",
        "/api/texts",
        TEXT_LEADS,  # a member's focal point starts texts its entity leads
        data={
            "body": "gmg",
            "kind": "message",
            "title": "A message from the authorisation matrix",
            "leads": ["UNICEF"],
            "text": "Drafted by the authorisation matrix.",
        },
        label="led by UNICEF",
    ),
    api("GET", "/api/texts/{text}", MEMBERS, route=TEXT),
    api("GET", "/api/texts/{wg_text}", DATA_GROUP, route=TEXT, label="data group"),
    api(
        "PATCH",
        "/api/texts/{text}",
        TEXT_LEADS,
        route=TEXT,
        data={"occasion": "Checked by the authorisation matrix"},
    ),
    api(
        "POST",
        "/api/texts/{text}/withdrawal",
        TEXT_LEADS,
        route=TEXT + "/withdrawal",
        data={"reason": "Withdrawn by the authorisation matrix."},
    ),
    api("GET", "/api/texts/{text}/versions/1", MEMBERS, route=TEXT + "/versions/{number}"),
    api(
        "POST",
        "/api/texts/{text}/versions",
        TEXT_DRAFTERS,
        route=TEXT + "/versions",
        data={"text": "A second version, by the authorisation matrix."},
    ),
    api("GET", "/api/texts/{text}/compare?from=1&to=1", MEMBERS, route=TEXT + "/compare"),
    api(
        "POST",
        "/api/texts/{text}/versions/1/comments",
        MEMBERS,  # whoever acts for a member and sees the text
        route=TEXT + "/versions/{number}/comments",
        data={"kind": "editorial", "body": "A comma, says the authorisation matrix."},
    ),
    api("GET", "/api/texts/{text}/comments", MEMBERS, route=TEXT + "/comments"),
    api(
        "POST",
        "/api/texts/{text}/comments/{text_comment}/resolution",
        TEXT_DRAFTERS,
        route=TEXT + "/comments/{comment_id}/resolution",
        data={"resolution": "accepted"},
        label="wfp_mainstreaming's comment",
    ),
    api(
        "POST",
        "/api/texts/{text}/rounds",
        TEXT_LEADS,
        route=TEXT + "/rounds",
        data={"deadline": "{deadline}"},
    ),
    api("GET", "/api/texts/{round_text}/rounds/1", MEMBERS, route=TEXT + "/rounds/{number}"),
    api(
        "POST",
        "/api/texts/{round_text}/rounds/1/answers",
        TEXT_LEADS,  # UNICEF's focal point, and the secretariat on UNICEF's behalf
        route=TEXT + "/rounds/{number}/answers",
        data={"entity": "UNICEF", "kind": "clear"},
        label="for UNICEF",
    ),
    api(
        "POST",
        "/api/texts/{broken_text}/rounds/1/next-step",
        TEXT_LEADS,
        route=TEXT + "/rounds/{number}/next-step",
        data={"step": "returned", "note": "Returned by the authorisation matrix."},
        label="silence broken",
    ),
    # No chair is in force (the GMG has ended): the secretariat records the decision.
    api(
        "POST",
        "/api/meetings/mtg-2017-04-principals/text-decisions",
        SECRETARIAT,
        route="/api/meetings/{key}/text-decisions",
        data={"text": "{referred_text}", "outcome": "noted"},
        label="a referred text",
    ),
    api(
        "POST",
        "/api/texts/{adopted_text}/publication",
        SECRETARIAT,
        route=TEXT + "/publication",
        data={"visibility": "public"},
        label="adopted",
    ),
    api(
        "GET",
        "/api/bodies/gmg/clearance-policy",
        EVERYONE,
        route="/api/bodies/{key}/clearance-policy",
    ),
    api(
        "PUT",
        "/api/bodies/gmg/clearance-policy",
        SECRETARIAT,
        route="/api/bodies/{key}/clearance-policy",
        data={"minimum_notice_hours": 48},
    ),
    api("GET", "/api/me/clearance", SIGNED_IN),
    api("PUT", "/api/me/mail-preference", SIGNED_IN, data={"digest": True}),
]

ENTITY_ADMIN = "/admin/registry/entity/<path:object_id>/"
ADMIN = [
    page("/admin/", SECRETARIAT),
    page(
        "/admin/registry/",
        SECRETARIAT,
        route="/admin/(?P<app_label>accounts|registry|governance|workgroups|repository|clearance)/$",
    ),
    page("/admin/registry/entity/", SECRETARIAT),
    page("/admin/registry/entity/add/", SECRETARIAT),
    page(
        "/admin/registry/entity/{spare_entity_pk}/change/",
        SECRETARIAT,
        route=ENTITY_ADMIN + "change/",
    ),
    page(
        "/admin/registry/entity/{spare_entity_pk}/",
        SECRETARIAT,
        route=ENTITY_ADMIN,
        follow=True,  # a bare redirect to the change page, which decides
    ),
    form(
        "/admin/registry/entity/{spare_entity_pk}/delete/",
        SECRETARIAT,
        route=ENTITY_ADMIN + "delete/",
        data={"post": "yes"},
    ),
    page("/admin/accounts/auditentry/", SECRETARIAT),
    page("/admin/jsi18n/", SECRETARIAT),
    page("/admin/login/", NOBODY, label="sends everyone to the sign-in page"),
    page("/admin/no-such-page/", NOBODY, route="/admin/(?P<url>.*)$"),
]

MATRIX: list[Row] = [*SITE, *ACCOUNTS, *MEMBERS_AREA, *API_PAGES, *API, *ADMIN]


def _cases():
    for row in MATRIX:
        vias = ("session", "token") if row.is_api and row.tokens else ("session",)
        for via in vias:
            for role in ALL_ROLES:
                if via == "token" and role == ANONYMOUS:
                    continue  # the public has no token
                yield pytest.param(row, role, via, id=f"{row.id} | {role} | {via}")


CASES = list(_cases())


# -- the things rows refer to, made on demand through the services ------------------------------


@dataclass
class Cast:
    """The people of ``conftest.PEOPLE``, each with a signed-in session and a token."""

    people: dict[str, Member]
    sessions: dict[str, str]
    tokens: dict[str, str]
    handler: object  # django.test.client.ClientHandler


class Stage:
    """One test's view of the cast, and the things its row names (see ``BUILDERS``)."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.things = Things(self)

    def member(self, name: str) -> Member:
        return self.cast.people[name]

    def token(self, name: str) -> str:
        return self.cast.tokens[name]

    def client(self, role: str, via: str) -> Client:
        from django.conf import settings

        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token(role)}"} if via == "token" else {}
        client = Client(**headers)
        # One request handler for the module: each new one loads the middleware again, and
        # WhiteNoise's scans every static file (most of a simple request's time).
        client.handler = self.cast.handler
        if role != ANONYMOUS and via == "session":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.cast.sessions[role]
        return client


class Things(dict):
    def __init__(self, stage: Stage) -> None:
        super().__init__()
        self.stage = stage

    def __missing__(self, key: str) -> str:
        value = BUILDERS[key](self.stage)
        self[key] = value
        return value


def _gmg():
    from gmg.registry.models import Body

    return Body.objects.get(key="gmg")


def _group(key: str):
    from gmg.workgroups.models import WorkingGroup

    return WorkingGroup.objects.get(key=key)


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "minutes.txt", b"Minutes of the data group.\n", content_type="text/plain"
    )


def _document(stage: Stage, uploader: str, visibility: str, group: str | None = None) -> str:
    from gmg.accounts.services import Actor
    from gmg.repository.models import Document
    from gmg.repository.services import share_document

    member = stage.member(uploader)
    viewer = member.viewer()
    document = Document(
        title=f"A {visibility} document of {uploader}",
        kind=Document.Kind.DOCUMENT,
        text="Made for the authorisation matrix.",
        body=_gmg(),
        working_group=_group(group) if group else None,
        visibility=visibility,
        entity_id=next(iter(viewer.entity_ids), None),
        uploaded_by=member.user,
    )
    share_document(
        document,
        viewer=viewer,
        by=Actor.for_user(member.user),
        upload=_upload() if group else None,
    )
    return str(document.uid)


def _meeting(key: str, visibility: str, group: str | None = None) -> str:
    from gmg.core.services import save_record
    from gmg.governance.models import Meeting

    meeting = Meeting(
        key=key,
        body=_gmg(),
        kind=Meeting.Kind.WORKING_LEVEL,
        title=f"Meeting {key}",
        date="2018-03",
        working_group=_group(group) if group else None,
        visibility=visibility,
    )
    save_record(meeting, by=SYSTEM)
    return key


def _spare_body(stage: Stage) -> str:
    from gmg.core.services import save_record
    from gmg.registry.models import Body

    save_record(Body(key="authz-spare-body", name="A spare body"), by=SYSTEM)
    return "authz-spare-body"


def _spare_entity_object(stage: Stage):
    from gmg.core.services import save_record
    from gmg.registry.models import Entity

    found = Entity.objects.filter(acronym="AUTHZSPARE").first()
    if found is None:
        found = save_record(
            Entity(acronym="AUTHZSPARE", name="A spare entity", slug="authzspare", kind="other"),
            by=SYSTEM,
        )
    return found


def _spare_membership(stage: Stage) -> str:
    from gmg.core.services import save_record
    from gmg.registry.models import Membership

    entity = _spare_entity_object(stage)
    return str(save_record(Membership(body=_gmg(), entity=entity, joined="2012"), by=SYSTEM).pk)


def _unicef_membership(stage: Stage) -> str:
    from gmg.registry.models import Membership

    return str(Membership.objects.filter(body__key="gmg", entity__acronym="UNICEF").first().pk)


def _spare_term(stage: Stage) -> str:
    from gmg.core.services import save_record
    from gmg.governance.models import ChairTerm, ChairTermChair
    from gmg.registry.models import Entity

    term = ChairTerm(key="authz-spare-term", body=_gmg(), start="2011-03", end="2011-04")
    unicef = Entity.objects.get(acronym="UNICEF")
    save_record(
        term,
        by=SYSTEM,
        children=lambda saved: ChairTermChair.objects.create(term=saved, entity=unicef),
    )
    return term.key


def _spare_group(stage: Stage) -> str:
    from gmg.core.services import save_record
    from gmg.workgroups.models import WorkingGroup

    group = WorkingGroup(key="tf-authz-spare", body=_gmg(), kind="task_force", name="Spare")
    save_record(group, by=SYSTEM)
    return group.key


def _spare_output(stage: Stage) -> str:
    from gmg.repository.models import Output
    from gmg.repository.services import save_output

    output = Output(
        key="authz-spare-output",
        body=_gmg(),
        type="publication",
        title="A spare output",
        date="2018",
    )
    save_output(output, by=SYSTEM)
    return output.key


def _invitation(stage: Stage):
    from gmg.accounts.services import RoleSpec, invite
    from gmg.registry.models import Entity

    if "_invitation" not in stage.things:
        invitation, link = invite(
            email="authz-invitee@example.org",
            name="Invitee",
            entity_id=Entity.objects.get(acronym="IOM").pk,
            roles=[RoleSpec("focal_point")],
            by=SYSTEM,
            send=False,
        )
        secret = link.rstrip("/").rsplit("/", 1)[-1]
        stage.things["_invitation"] = (str(invitation.pk), secret)
    return stage.things["_invitation"]


def _fao_token(stage: Stage) -> str:
    from gmg.accounts.models import ApiToken

    return ApiToken.objects.get(user=stage.member("fao_data").user).prefix


def _reset(stage: Stage) -> tuple[str, str]:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = stage.member("registered").user
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def _joint_text(
    stage: Stage,
    key: str,
    *,
    visibility: str = "body",
    group: str | None = None,
    lead: str = "UNICEF",
    drafters: tuple[str, ...] = (),
):
    from gmg.accounts.services import Actor
    from gmg.clearance import services
    from gmg.clearance.models import JointText
    from gmg.registry.models import Entity

    member = stage.member("unicef" if lead == "UNICEF" else "fao_data")
    text = JointText(
        key=key,
        body=_gmg(),
        working_group=_group(group) if group else None,
        kind="joint_statement",
        title=f"Joint statement {key}",
        visibility=visibility,
    )
    return services.start_text(
        text,
        viewer=member.viewer(),
        by=Actor.for_user(member.user),
        leads=[Entity.objects.get(acronym=lead)],
        drafters=[stage.member(name).user for name in drafters],
        first_draft="Made for the authorisation matrix.\n\nA second paragraph.",
    )


def _as(stage: Stage, name: str) -> dict:
    from gmg.accounts.services import Actor

    member = stage.member(name)
    return {"viewer": member.viewer(), "by": Actor.for_user(member.user)}


def _closed_text(stage: Stage, key: str, objection: bool) -> str:
    """A text whose round 1 ran ten days ago, its closing recorded: silence broken by WFP's
    objection, or adopted."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from gmg.clearance import services
    from gmg.registry.models import Entity

    text = _joint_text(stage, key)
    then = timezone.now() - dt.timedelta(days=10)
    with time_machine.travel(then, tick=False):
        round_ = services.open_round(
            text, **_as(stage, "unicef"), deadline=then + dt.timedelta(days=4)
        )
        if objection:
            services.answer(
                round_,
                **_as(stage, "wfp_mainstreaming"),
                entity=Entity.objects.get(acronym="WFP"),
                kind="object",
                reason="Objected by the authorisation matrix.",
            )
    services.settle_text(text)
    return key


def _open_round_text(stage: Stage) -> str:
    import datetime as dt

    from django.utils import timezone

    from gmg.clearance import services

    text = _joint_text(stage, "authz-round-text")
    services.open_round(
        text, **_as(stage, "unicef"), deadline=timezone.now() + dt.timedelta(days=5)
    )
    return text.key


def _referred_text(stage: Stage) -> str:
    from gmg.clearance import services
    from gmg.clearance.models import Round

    key = _closed_text(stage, "authz-referred-text", objection=True)
    round_ = Round.objects.get(text__key=key, number=1)
    services.choose_next_step(round_, **_as(stage, "unicef"), step="referred")
    return key


def _text_comment(stage: Stage) -> str:
    from gmg.clearance import services
    from gmg.clearance.models import Version

    version = Version.objects.get(text__key=stage.things["text"], number=1)
    comment = services.add_comment(
        version, **_as(stage, "wfp_mainstreaming"), kind="editorial", body="Shorter, please."
    )
    return str(comment.pk)


def _deadline(stage: Stage) -> str:
    import datetime as dt

    from django.utils import timezone

    return (timezone.now() + dt.timedelta(days=5)).isoformat()


def _fao_calendar(stage: Stage) -> str:
    from gmg.site.texts import calendar_url

    return calendar_url(stage.member("fao_data").user).rsplit("/", 1)[-1].removesuffix(".ics")


BUILDERS: dict[str, Callable[[Stage], str]] = {
    "public_doc": lambda s: _document(s, "secretariat", "public"),
    "body_doc": lambda s: _document(s, "unicef", "body"),
    "wg_doc": lambda s: _document(s, "fao_data", "working_group", "wg-data-research"),
    "wg_meeting": lambda s: _meeting("mtg-authz-data", "working_group", "wg-data-research"),
    "body_meeting": lambda s: _meeting("mtg-authz-body", "body"),
    "hrg_meeting": lambda s: _meeting("mtg-authz-hrg", "body", "wg-human-rights-gender"),
    "spare_body": _spare_body,
    "spare_entity": lambda s: _spare_entity_object(s).acronym,
    "spare_entity_pk": lambda s: str(_spare_entity_object(s).pk),
    "spare_membership": _spare_membership,
    "unicef_membership": _unicef_membership,
    "spare_term": _spare_term,
    "spare_group": _spare_group,
    "spare_output": _spare_output,
    "invitation_secret": lambda s: _invitation(s)[1],
    "invitation_pk": lambda s: _invitation(s)[0],
    "fao_token": _fao_token,
    "reset_uid": lambda s: _reset(s)[0],
    "reset_token": lambda s: _reset(s)[1],
    "registered_email": lambda s: s.member("registered").email,
    "text": lambda s: _joint_text(s, "authz-text", drafters=("fao_data",)).key,
    "wg_text": lambda s: (
        _joint_text(
            s, "authz-wg-text", visibility="working_group", group="wg-data-research", lead="FAO"
        ).key
    ),
    "text_comment": _text_comment,
    "deadline": _deadline,
    "round_text": _open_round_text,
    "broken_text": lambda s: _closed_text(s, "authz-broken-text", objection=True),
    "adopted_text": lambda s: _closed_text(s, "authz-adopted-text", objection=False),
    "referred_text": _referred_text,
    "deadline_local": lambda s: _deadline(s)[:16],  # as a datetime-local field sends it
    "fao_calendar": _fao_calendar,
}


@pytest.fixture(scope="module")
def own_search_index(django_db_setup, tmp_path_factory):
    """Outputs written here are indexed in a copy of the session's index (on SQLite the index
    is a directory, which the rollback of each test does not undo)."""
    from django.conf import settings

    shared = Path(settings.GMG_SEARCH_INDEX_DIR)
    own = tmp_path_factory.mktemp("matrix-index") / "index"
    if shared.exists():
        shutil.copytree(shared, own)
    settings.GMG_SEARCH_INDEX_DIR = own
    yield own
    settings.GMG_SEARCH_INDEX_DIR = shared


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker, own_search_index):
    """The people, their sessions and tokens, made once for the module.

    As Django's ``TestCase.setUpTestData`` does: they are made in a transaction that stays
    open while the module runs and is rolled back at its end; each test runs in a savepoint
    inside it (pytest-django's ``db``), so what a test writes is undone after it.
    """
    from django.db import transaction
    from django.test import override_settings

    from gmg.accounts.models import ApiToken
    from gmg.accounts.services import create_token

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                people = {
                    name: make_person(name, entity, roles, totp=(name == "secretariat"))
                    for name, (entity, roles) in PEOPLE.items()
                }
            sessions = {
                name: signed_in_client(member).session.session_key
                for name, member in people.items()
            }
            scopes = list(ApiToken.Scope.values)
            tokens = {
                name: create_token(
                    member.user,
                    name="matrix",
                    scopes=scopes,
                    by=SYSTEM,
                    two_factor=member.device is not None,
                )[1]
                for name, member in people.items()
            }
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield Cast(people, sessions, tokens, Client().handler)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def stage(cast, db) -> Stage:
    return Stage(cast)


# -- running one request ----------------------------------------------------------------------

ALLOWED, DENIED = "allowed", "denied"


def _is_sign_in(url: str) -> bool:
    return urlsplit(url).path in SIGN_IN_PATHS


def verdict(response) -> str:
    hops = [url for url, _ in getattr(response, "redirect_chain", [])]
    if any(_is_sign_in(url) for url in hops):
        return DENIED
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        return DENIED if _is_sign_in(response["Location"]) else ALLOWED
    if 200 <= code < 300:
        return ALLOWED
    if code in (401, 403, 404):
        return DENIED
    return f"unexpected HTTP {code}"


def _fill(value, things: Things):
    if isinstance(value, str):
        return _upload() if value == UPLOAD else value.format_map(things)
    if isinstance(value, list):
        return [_fill(v, things) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, things) for k, v in value.items()}
    return value


def send(client: Client, row: Row, path: str, data):
    call = getattr(client, row.method.lower())
    if data is None:
        response = call(path, follow=row.follow)
    elif row.encoding == "json":
        response = call(
            path, data=json.dumps(data), content_type="application/json", follow=row.follow
        )
    else:
        response = call(path, data=data, follow=row.follow)  # urlencoded or multipart
    if response.streaming:  # read to the end: the test client then closes files and streams
        b"".join(response.streaming_content)
    return response


def route_of(method: str, path: str) -> str:
    """The matrix's name of the route ``path`` resolves to."""
    match = resolve(urlsplit(path).path)
    route = "/" + match.route
    if match.namespace == "api" and match.url_name not in API_SITE_VIEWS:
        return f"{method} {_api_path(route)}"
    return route


API_SITE_VIEWS = {"openapi-json", "openapi-view", "api-root"}


def _api_path(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@pytest.mark.parametrize(("row", "role", "via"), CASES)
def test_access(row: Row, role: str, via: str, stage: Stage):
    from gmg.accounts.models import AuditEntry

    path = row.path.format_map(stage.things)
    data = _fill(row.data, stage.things)
    assert route_of(row.method, path) == row.route, f"{row.id} does not reach {row.route}"
    client = stage.client(role, via)
    before = AuditEntry.objects.count()

    response = send(client, row, path, data)

    written = AuditEntry.objects.count() - before
    got = verdict(response)
    expected = ALLOWED if role in row.allowed else DENIED
    where = response.get("Location", "") if not row.follow else str(response.redirect_chain)
    said = f"{row.id} as {role} ({via}): HTTP {response.status_code} {where}".strip()
    if not row.is_write:
        assert got == expected, f"{said}: {got}, expected {expected}"
        return
    if expected == ALLOWED:
        assert got == ALLOWED, f"{said}: {got}, expected the write to be allowed"
        assert written > 0, f"{said}: allowed, but nothing was written"
        return
    assert written == 0, f"{said}: refused, yet {written} audited write(s) happened"
    if row.shown_in_page:
        assert got in (ALLOWED, DENIED), f"{said}: {got}"  # a refusal shown in the page
    else:
        assert got == DENIED, f"{said}: {got}, expected a refusal"
    if row.is_api and role == ANONYMOUS:
        assert response.status_code == 401, f"{said}: the API asks the public to authenticate"


# -- every route has a row ----------------------------------------------------------------------


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).removeprefix("^") if prefix else str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            yield from (
                (r, f"{namespace}:{name}" if namespace and name else name, p)
                for r, name, p in _walk(pattern.url_patterns, route)
            )
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name, pattern


def project_routes() -> tuple[set[str], dict[str, str | None]]:
    """Every route of the project: Django URL patterns (the back office apart) and API
    operations. Returns (routes, back-office routes with their URL names)."""
    from gmg.api.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    operations = {
        f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops
    }
    api_paths = set(schema["paths"])
    routes: set[str] = set(operations)
    admin: dict[str, str | None] = {}
    for route, name, _ in _walk(get_resolver().url_patterns):
        route = "/" + route
        if route.startswith("/admin/"):
            admin[route] = name
        elif name and name.startswith("api:") and name.split(":", 1)[1] not in API_SITE_VIEWS:
            if _api_path(route) not in api_paths:  # an operation missing from the schema
                routes.add(f"* {_api_path(route)}")
        else:
            routes.add(route)
    return routes, admin


def admin_families() -> dict[str, Callable[[str, str | None], bool]]:
    """The back office's routes, by family: which rule covers a route and its URL name."""
    from gmg.core.admin import back_office

    site_views = {
        "index",
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "autocomplete",
        "jsi18n",
        "view_on_site",
        "app_list",
    }
    model_views = {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
        for model in back_office._registry
        for view in ("changelist", "add", "history", "delete", "change")
    }
    models = "|".join(f"{m._meta.app_label}/{m._meta.model_name}" for m in back_office._registry)
    return {
        "site views": lambda route, name: name is not None and name[6:] in site_views,
        "model views": lambda route, name: name in model_views,
        "object redirects": lambda route, name: (
            (name is None and re.fullmatch(rf"/admin/({models})/<path:object_id>/", route))
            is not None
        ),
        "catch-all": lambda route, name: name is None and route == "/admin/(?P<url>.*)$",
    }


def test_every_route_has_a_row(record_property):
    routes, admin = project_routes()
    rows = {row.route for row in MATRIX if not row.route.startswith("/admin/")}
    missing = sorted(routes - rows)
    gone = sorted(rows - routes)
    assert not missing, "routes without a row in MATRIX (add one per new endpoint):\n" + "\n".join(
        missing
    )
    assert not gone, "MATRIX rows for routes that no longer exist:\n" + "\n".join(gone)

    families = admin_families()
    unruled = sorted(
        f"{route} ({name})"
        for route, name in admin.items()
        if not any(rule(route, name) for rule in families.values())
    )
    assert not unruled, "back-office routes no family rule covers:\n" + "\n".join(unruled)
    admin_rows = {row.route for row in MATRIX if row.route.startswith("/admin/")}
    assert admin_rows <= set(admin), sorted(admin_rows - set(admin))
    for family, rule in families.items():
        assert any(rule(route, admin[route]) for route in admin_rows), (
            f"no MATRIX row represents the back office's {family}"
        )

    requests = len(CASES)
    record_property("routes", len(routes) + len(admin_rows))
    record_property("requests", requests)
    print(
        f"\nauthorisation matrix: {len(routes)} routes and API operations, "
        f"{len(admin)} back-office URLs in {len(families)} families "
        f"({len(admin_rows)} represented), {len(MATRIX)} rows, {requests} requests"
    )


def test_back_office_admins_are_gated():
    """Every back-office ModelAdmin is one of the two gated kinds (secretariat only)."""
    from gmg.core.admin import ReadOnlyAdmin, ServiceAdmin, back_office

    ungated = [
        model._meta.label
        for model, model_admin in back_office._registry.items()
        if not isinstance(model_admin, ServiceAdmin | ReadOnlyAdmin)
    ]
    assert not ungated


# -- CSRF and token scopes ----------------------------------------------------------------------

NEW_BODY = {"key": "authz-csrf-body", "name": "A body made over the API"}


def test_a_session_write_needs_the_csrf_token_and_a_bearer_token_does_not(stage):
    from gmg.accounts.models import AuditEntry
    from gmg.registry.models import Body

    browser = Client(enforce_csrf_checks=True)
    secretariat = stage.member("secretariat")
    browser.force_login(secretariat.user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = secretariat.device.persistent_id
    session.save()
    before = AuditEntry.objects.count()

    refused = browser.post("/api/bodies", json.dumps(NEW_BODY), content_type="application/json")

    assert refused.status_code == 403, refused.content
    assert AuditEntry.objects.count() == before
    assert not Body.objects.filter(key=NEW_BODY["key"]).exists()

    # The same session with its CSRF token (as the site's pages send it) is let through.
    from django.conf import settings

    browser.get("/accounts/tokens/")  # a page with a form sets the CSRF cookie
    allowed = browser.post(
        "/api/bodies",
        json.dumps(NEW_BODY),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    assert allowed.status_code == 201, allowed.content
    Body.objects.filter(key=NEW_BODY["key"]).delete()

    # A token needs no CSRF token: no browser sends it by itself.
    api_client = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {stage.token('secretariat')}"
    )
    before = AuditEntry.objects.count()
    made = api_client.post("/api/bodies", json.dumps(NEW_BODY), content_type="application/json")
    assert made.status_code == 201, made.content
    assert AuditEntry.objects.count() > before


def test_a_token_acts_only_within_its_scopes(stage):
    from gmg.accounts.models import ApiToken, AuditEntry
    from gmg.accounts.services import create_token

    user = stage.member("secretariat").user
    _, read_only = create_token(
        user, name="read", scopes=[ApiToken.Scope.READ], by=SYSTEM, two_factor=True
    )
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {read_only}")
    before = AuditEntry.objects.count()
    response = reader.post("/api/bodies", json.dumps(NEW_BODY), content_type="application/json")
    assert response.status_code == 403, response.content
    assert AuditEntry.objects.count() == before
    assert reader.get("/api/people").status_code == 200  # reads follow the person's roles


def test_an_unknown_or_revoked_token_is_refused_not_taken_for_the_public(stage):
    from gmg.accounts.models import ApiToken
    from gmg.accounts.services import Actor, revoke_token

    secret = stage.token("secretariat")
    token = ApiToken.objects.get(user=stage.member("secretariat").user)
    revoke_token(token, by=Actor.system("test"))
    for bad in (secret, "gmg_not-a-real-token"):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {bad}")
        assert client.get("/api/bodies").status_code == 401
        assert client.get("/api/people").status_code == 401


def test_the_secretariat_role_without_the_second_factor_grants_nothing(stage, settings):
    """A secretariat account signed in with its password alone (no TOTP device yet, as just
    after accepting an invitation) is sent to set up its second factor, and has no rights: not
    through its session, nor through a token it makes from that session."""
    from gmg.accounts.services import RoleSpec
    from gmg.registry.models import Body

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    member = make_person("new_secretary", None, [RoleSpec("secretariat")], totp=False)
    browser = Client()
    browser.handler = stage.cast.handler
    browser.force_login(member.user)

    audit_page = browser.get("/members-area/audit/")
    assert audit_page.status_code == 302 and audit_page["Location"] == "/accounts/two-factor/"
    assert _is_sign_in(browser.get("/admin/")["Location"])
    assert browser.get("/api/people").status_code == 403
    body = json.dumps({"key": "authz-unverified-body", "name": "Made with one factor"})
    assert browser.post("/api/bodies", body, content_type="application/json").status_code == 403

    made = browser.post(
        "/accounts/tokens/",
        {"name": "script", "scopes": ["write:registry"], "expires_in_days": 30},
    )
    assert made.status_code in (200, 302)
    created = (made.context or {}).get("created") if made.status_code == 200 else None
    if created is None:
        return  # the page refused to make a token for an unverified secretariat session
    token_client = Client(HTTP_AUTHORIZATION=f"Bearer {created['secret']}")
    token_client.handler = stage.cast.handler
    response = token_client.post("/api/bodies", body, content_type="application/json")
    assert response.status_code == 403, (
        "a token made by a session that never passed the second factor carries the "
        f"secretariat's rights: POST /api/bodies answered {response.status_code}"
    )
    assert not Body.objects.filter(key="authz-unverified-body").exists()
