"""The clearance API: a joint statement from first draft to publication through the API alone,
and what it refuses (hidden texts, answers for another entity, bad deadlines and answers).

The world is ``conftest.py``'s: the GMG's 22 members on Monday 29 January 2018, each with a
focal point, and a secretariat with two factors; time stands still until ``clock`` moves it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import typing
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gmg.accounts.models import ApiToken, AuditEntry
from gmg.accounts.services import create_token
from gmg.clearance import api as clearance_api
from gmg.clearance import services
from gmg.clearance.models import Answer, Comment, JointText, Round, Status
from gmg.governance.models import Decision, Meeting
from gmg.registry.models import Entity
from gmg.repository.models import Document, Output
from tests.clearance.conftest import DRAFT, START, SYSTEM

pytestmark = pytest.mark.django_db

PLUS_ONE = dt.timezone(dt.timedelta(hours=1))  # Geneva in winter


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    """The cast's 23 accounts are made for every test: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module", autouse=True)
def own_search_index(django_db_setup, tmp_path_factory):
    """Outputs published here are indexed in a copy of the session's index (on SQLite the
    index is a directory, which the rollback of each test does not undo)."""
    from django.conf import settings

    shared = Path(settings.GMG_SEARCH_INDEX_DIR)
    own = tmp_path_factory.mktemp("clearance-index") / "index"
    if shared.exists():
        shutil.copytree(shared, own)
    settings.GMG_SEARCH_INDEX_DIR = own
    yield own
    settings.GMG_SEARCH_INDEX_DIR = shared


class Caller:
    """API calls as one person of the cast, with a token (or as the public)."""

    def __init__(self, secret: str | None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
        self.client = Client(**headers)

    def get(self, path: str):
        return self.client.get(path)

    def send(self, method: str, path: str, data: dict):
        call = getattr(self.client, method.lower())
        return call(path, json.dumps(data), content_type="application/json")

    def post(self, path: str, data: dict):
        return self.send("POST", path, data)


@pytest.fixture
def as_(cast):
    """``as_("IOM")``: a caller with a write:clearance token of IOM's focal point;
    ``as_(None)``: the public."""
    made: dict[str | None, Caller] = {None: Caller(None)}

    def caller(name: str | None) -> Caller:
        if name not in made:
            _, secret = create_token(
                cast.user(name),
                name="clearance tests",
                scopes=[ApiToken.Scope.WRITE_CLEARANCE],
                by=SYSTEM,
                two_factor=name == "secretariat",
            )
            made[name] = Caller(secret)
        return made[name]

    return caller


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def refused(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail
    return detail


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def new_text(as_, cast, **fields) -> dict:
    body = {
        "body": "gmg",
        "kind": "joint_statement",
        "title": "GMG joint statement to the GFMD",
        "occasion": "GFMD Friends of the Forum, 5 February 2018",
        "visibility": "body",
        "leads": ["IOM"],
        "co_leads": ["UNICEF"],
        "text": DRAFT,
        **fields,
    }
    return ok(as_("IOM").post("/api/texts", body), 201)


# -- the whole way, through the API alone -------------------------------------------------------


def test_a_statement_from_first_draft_to_a_public_output(as_, cast, clock):
    iom, fao, wfp, unicef = as_("IOM"), as_("FAO"), as_("WFP"), as_("UNICEF")
    event = Output.objects.filter(type="event", visibility="public").order_by("key").first()
    assert event is not None

    # IOM starts the text, with UNICEF co-leading and FAO's focal point drafting.
    text = new_text(
        as_,
        cast,
        event=event.key,
        drafters=[cast.user("FAO").get_username().upper()],  # addresses match in any case
        note="First draft, from the retreat.",
    )
    key = text["key"]
    assert text["status"] == "drafting" and text["latest_version"] == 1
    assert text["leads"] == [
        {"entity": "IOM", "role": "lead"},
        {"entity": "UNICEF", "role": "co_lead"},
    ]
    assert text["event"] == event.key and text["current_round"] is None
    assert text["drafters"] == [
        {"name": "FAO focal point", "entity": "FAO", "email": cast.user("FAO").get_username()}
    ]
    assert text["versions"][0]["created_by"] == "IOM focal point"
    assert text["versions"][0]["created_at"] == "2018-01-29T09:00:00Z"

    # Comments: one on a paragraph, one on the whole text.
    on_rights = ok(
        fao.post(
            f"/api/texts/{key}/versions/1/comments",
            {"kind": "substantive", "body": "Name the Global Compact in full.", "paragraph": 1},
        ),
        201,
    )
    assert on_rights["quote"].startswith("The Global Migration Group welcomes")
    assert (on_rights["author"], on_rights["entity"]) == ("FAO focal point", "FAO")
    whole = ok(
        wfp.post(
            f"/api/texts/{key}/versions/1/comments", {"kind": "editorial", "body": "Shorter?"}
        ),
        201,
    )
    assert whole["paragraph"] is None
    listed = ok(iom.get(f"/api/texts/{key}/comments"))
    assert [c["id"] for c in listed["items"]] == [whole["id"], on_rights["id"]]  # whole first

    # The leads resolve them: a decline needs a reason.
    refused(
        iom.post(f"/api/texts/{key}/comments/{whole['id']}/resolution", {"resolution": "declined"}),
        422,
        "Say why the comment is declined.",
    )
    declined = ok(
        iom.post(
            f"/api/texts/{key}/comments/{whole['id']}/resolution",
            {"resolution": "declined", "reason": "Already short."},
        )
    )
    assert (declined["resolution"], declined["reason"]) == ("declined", "Already short.")
    assert declined["resolved_by"] == "IOM focal point"
    ok(
        iom.post(
            f"/api/texts/{key}/comments/{on_rights['id']}/resolution", {"resolution": "accepted"}
        )
    )

    # FAO, a drafter, writes version 2: a paragraph added before the commented one, and the
    # last one amended.
    clock(START + dt.timedelta(hours=2))
    amended = "Fourteen years on, the group meets again.\n\n" + DRAFT.replace(
        "stands ready to support", "stands ready to support and advise"
    )
    version = ok(
        fao.post(f"/api/texts/{key}/versions", {"text": amended, "note": "FAO's comment"}), 201
    )
    assert version["number"] == 2 and len(version["paragraphs"]) == 4
    carried = {c["id"]: c for c in version["comments"]}[on_rights["id"]]
    assert carried["carried"] is True
    assert (carried["paragraph"], carried["current_paragraph"]) == (1, 2)

    compared = ok(iom.get(f"/api/texts/{key}/compare?from=1&to=2"))
    assert (compared["from"], compared["to"]) == (1, 2)
    assert [r["change"] for r in compared["rows"]] == ["added", "same", "same", "changed"]
    changed = compared["rows"][3]
    assert (changed["old_number"], changed["new_number"]) == (3, 4)
    assert changed["new"] == "The GMG stands ready to support and advise Member States."
    assert compared["rows"][0] == {
        "change": "added",
        "old_number": None,
        "new_number": 1,
        "old": "",
        "new": "Fourteen years on, the group meets again.",
    }
    same = ok(iom.get(f"/api/texts/{key}/compare?from=2&to=2"))
    assert {r["change"] for r in same["rows"]} == {"same"}
    refused(iom.get(f"/api/texts/{key}/compare?from=1&to=9"), 404, "No version 9")

    # Round 1: every member in force is asked until Thursday 18:00 in Geneva.
    deadline = dt.datetime(2018, 2, 1, 18, 0, tzinfo=PLUS_ONE)
    round_ = ok(iom.post(f"/api/texts/{key}/rounds", {"deadline": iso(deadline)}), 201)
    assert round_["deadline"] == "2018-02-01T17:00:00Z"  # kept and shown in UTC
    assert (round_["number"], round_["version"], round_["open"]) == (1, 2, True)
    assert round_["counts"] == {
        "asked": 22,
        "clear": 0,
        "clear_with_comments": 0,
        "object": 0,
        "silent": 22,
    }
    awaiting = ok(wfp.get("/api/me/clearance"))
    assert [(a["text"], a["round"]) for a in awaiting["items"]] == [(key, 1)]
    assert ok(iom.get(f"/api/texts/{key}"))["status"] == "in_clearance"
    refused(fao.post(f"/api/texts/{key}/versions", {"text": "Another."}), 422, "no new version now")

    clock(START + dt.timedelta(days=1))
    ok(
        unicef.post(f"/api/texts/{key}/rounds/1/answers", {"entity": "UNICEF", "kind": "clear"}),
        201,
    )
    ok(
        fao.post(
            f"/api/texts/{key}/rounds/1/answers",
            {"entity": "FAO", "kind": "clear_with_comments", "comments": "A comma in 3."},
        ),
        201,
    )
    objection = ok(
        wfp.post(
            f"/api/texts/{key}/rounds/1/answers",
            {"entity": "WFP", "kind": "object", "reason": "Food security is missing."},
        ),
        201,
    )
    assert (objection["answered_by"], objection["on_behalf"]) == ("WFP focal point", False)
    assert ok(wfp.get("/api/me/clearance"))["items"] == []
    grid = ok(iom.get(f"/api/texts/{key}/rounds/1"))
    states = {row["entity"]: row["state"] for row in grid["entities"]}
    assert (states["UNICEF"], states["FAO"], states["WFP"], states["IOM"]) == (
        "clear",
        "clear_with_comments",
        "object",
        "silent",
    )
    assert grid["silence_broken"] is True and grid["outcome"] is None and grid["open"] is True

    # One second after the deadline the round is closed: no more answers, and silence broken
    # although nothing has recorded the closing yet.
    clock(deadline + dt.timedelta(seconds=1))
    refused(
        iom.post(f"/api/texts/{key}/rounds/1/answers", {"entity": "IOM", "kind": "clear"}),
        422,
        "2018-02-01 17:00:00 UTC",
        "has passed",
    )
    assert not Round.objects.get(text__key=key).closed_at
    shown = ok(iom.get(f"/api/texts/{key}"))
    assert shown["status"] == "silence_broken"
    assert shown["rounds"][0]["outcome"] == "silence_broken"
    assert shown["current_round"] == {
        "number": 1,
        "deadline": "2018-02-01T17:00:00Z",
        "open": False,
    }
    assert ok(iom.get(f"/api/texts/{key}/rounds/1"))["outcome"] == "silence_broken"

    # The leads amend it: a new version and a second round.
    step = ok(
        iom.post(
            f"/api/texts/{key}/rounds/1/next-step",
            {"step": "new_version", "note": "Add food security."},
        )
    )
    assert (step["next_step"], step["next_step_note"]) == ("new_version", "Add food security.")
    assert ok(iom.get(f"/api/texts/{key}"))["status"] == "revising"
    third = amended + "\n\nFood security is part of the answer."
    ok(iom.post(f"/api/texts/{key}/versions", {"text": third}), 201)
    clock(deadline + dt.timedelta(hours=1))
    second_deadline = deadline + dt.timedelta(hours=1 + 72)  # the shortest notice
    second = ok(iom.post(f"/api/texts/{key}/rounds", {"deadline": iso(second_deadline)}), 201)
    assert (second["number"], second["version"]) == (2, 3)
    ok(wfp.post(f"/api/texts/{key}/rounds/2/answers", {"entity": "WFP", "kind": "clear"}), 201)

    # Silence holds to the deadline: adopted, derived at once.
    clock(second_deadline)
    adopted = ok(iom.get(f"/api/texts/{key}"))
    assert adopted["status"] == "adopted"
    assert [r["outcome"] for r in adopted["rounds"]] == ["silence_broken", "adopted"]
    assert [t["key"] for t in ok(iom.get("/api/texts?status=adopted"))["items"]] == [key]
    assert ok(iom.get("/api/texts?status=in_clearance"))["count"] == 0

    # The secretariat publishes it: a public output, which anyone reads.
    refused(iom.post(f"/api/texts/{key}/publication", {"visibility": "public"}), 403)
    published = ok(
        as_("secretariat").post(f"/api/texts/{key}/publication", {"visibility": "public"}), 201
    )
    assert published == {"text": key, "output": key, "document": None}
    output = ok(as_(None).get(f"/api/outputs/{key}"))
    assert output["type"] == "joint_statement" and output["date"] == "2018-02-04"
    assert output["description"].endswith("Food security is part of the answer.")
    assert output["entities"] == [
        {"entity": "IOM", "role": "lead"},
        {"entity": "UNICEF", "role": "co_lead"},
    ]
    assert event.key in output["related"]
    final = ok(iom.get(f"/api/texts/{key}"))
    assert (final["output"], final["adopted_version"]) == (key, 3)
    refused(as_("secretariat").post(f"/api/texts/{key}/publication", {}), 422, "published already")


# -- who sees what --------------------------------------------------------------------------------


def test_a_text_the_caller_cannot_see_is_a_404_everywhere(as_, cast):
    named = new_text(
        as_, cast, title="For IOM and UNICEF", visibility="entities", audience_entities=["IOM"]
    )
    key = named["key"]
    fao, public = as_("FAO"), as_(None)
    for path in (
        f"/api/texts/{key}",
        f"/api/texts/{key}/versions/1",
        f"/api/texts/{key}/comments",
        f"/api/texts/{key}/compare?from=1&to=1",
    ):
        refused(fao.get(path), 404, f"No text '{key}'.")
        refused(public.get(path), 404, f"No text '{key}'.")
    refused(
        fao.post(f"/api/texts/{key}/versions/1/comments", {"kind": "editorial", "body": "Hi"}),
        404,
    )
    before = AuditEntry.objects.count()
    refused(
        public.post(f"/api/texts/{key}/versions/1/comments", {"kind": "editorial", "body": "x"}),
        401,
    )
    assert AuditEntry.objects.count() == before
    assert key not in [t["key"] for t in ok(fao.get("/api/texts"))["items"]]
    assert key in [t["key"] for t in ok(as_("IOM").get("/api/texts"))["items"]]
    assert key in [t["key"] for t in ok(as_("secretariat").get("/api/texts"))["items"]]


def test_the_public_sees_public_texts_only(as_, cast):
    body_text = new_text(as_, cast)
    public_text = new_text(as_, cast, title="A public concept note", visibility="public")
    listed = ok(as_(None).get("/api/texts"))
    assert [t["key"] for t in listed["items"]] == [public_text["key"]]
    refused(as_(None).get(f"/api/texts/{body_text['key']}"), 404)
    assert ok(as_(None).get(f"/api/texts/{public_text['key']}"))["drafters"] == []
    refused(as_(None).get("/api/me/clearance"), 401)


def test_drafters_addresses_are_shown_to_the_leads_only(as_, cast):
    text = new_text(as_, cast, drafters=[cast.user("FAO").get_username()])
    for name, shown in (("IOM", True), ("UNICEF", True), ("WFP", False), ("FAO", False)):
        (drafter,) = ok(as_(name).get(f"/api/texts/{text['key']}"))["drafters"]
        assert (drafter["email"] is not None) is shown, name


def test_the_list_filters_and_pages(as_, cast):
    for n in range(3):
        new_text(as_, cast, title=f"Issue brief {n}", kind="issue_brief")
    new_text(as_, cast, title="A message")
    iom = as_("IOM")
    briefs = ok(iom.get("/api/texts?kind=issue_brief&body=gmg&page_size=2"))
    assert (briefs["count"], briefs["pages"], len(briefs["items"])) == (3, 2, 2)
    assert [
        t["title"] for t in ok(iom.get("/api/texts?kind=issue_brief&page_size=2&page=2"))["items"]
    ] == ["Issue brief 0"]
    refused(iom.get("/api/texts?kind=issue_brief&page_size=2&page=3"), 404, "past the last page")
    refused(iom.get("/api/texts?page_size=101"), 422)
    refused(iom.get("/api/texts?page=0"), 422)
    refused(iom.get("/api/texts?status=nonsense"), 422)
    refused(iom.get("/api/texts?body=nope"), 404, "unknown body")
    assert ok(iom.get("/api/texts?status=drafting"))["count"] == 4


# -- refusals -----------------------------------------------------------------------------------


def test_an_entity_does_not_answer_for_another(as_, cast, statement):
    services.open_round(statement, **cast.as_("IOM"), deadline=START + dt.timedelta(days=4))
    before = Answer.objects.count()
    refused(
        as_("FAO").post(
            f"/api/texts/{statement.key}/rounds/1/answers", {"entity": "WFP", "kind": "clear"}
        ),
        403,
        "Only WFP's Principal or focal point answers for it.",
    )
    assert Answer.objects.count() == before
    # The secretariat records an answer given by other means, on the entity's behalf.
    given = ok(
        as_("secretariat").post(
            f"/api/texts/{statement.key}/rounds/1/answers", {"entity": "WFP", "kind": "clear"}
        ),
        201,
    )
    assert given["on_behalf"] is True


def test_bad_deadlines_are_refused_with_a_reason(as_, cast, statement):
    iom, path = as_("IOM"), f"/api/texts/{statement.key}/rounds"
    naive = refused(iom.post(path, {"deadline": "2018-02-05T09:00:00"}), 422, "time zone")
    assert naive.startswith("the record was not saved: deadline:")
    refused(
        iom.post(path, {"deadline": iso(START + dt.timedelta(hours=71, minutes=59))}),
        422,
        "at least 72 hours ahead",
        "2018-02-01 09:00 UTC or later",
    )
    refused(iom.post(path, {"deadline": "next Friday"}), 422, "deadline")
    refused(iom.post(path, {"deadline": iso(START + dt.timedelta(days=400))}), 422, "a year")
    refused(
        iom.post(path, {"deadline": iso(START + dt.timedelta(days=4)), "version": 7}),
        422,
        "unknown version 7",
    )
    assert not Round.objects.filter(text=statement).exists()

    # The body's policy sets the shortest notice: the secretariat may shorten it.
    assert ok(iom.get("/api/bodies/gmg/clearance-policy"))["minimum_notice_hours"] == 72
    refused(iom.send("PUT", "/api/bodies/gmg/clearance-policy", {"minimum_notice_hours": 24}), 403)
    ok(
        as_("secretariat").send(
            "PUT", "/api/bodies/gmg/clearance-policy", {"minimum_notice_hours": 24}
        )
    )
    refused(
        as_("secretariat").send(
            "PUT", "/api/bodies/gmg/clearance-policy", {"minimum_notice_hours": 0}
        ),
        422,
    )
    refused(iom.get("/api/bodies/nope/clearance-policy"), 404)
    ok(iom.post(path, {"deadline": iso(START + dt.timedelta(hours=24))}), 201)


def test_bad_answers_are_refused_with_a_reason(as_, cast, statement):
    services.open_round(statement, **cast.as_("IOM"), deadline=START + dt.timedelta(days=4))
    path = f"/api/texts/{statement.key}/rounds/1/answers"
    wfp, secretariat = as_("WFP"), as_("secretariat")
    refused(wfp.post(path, {"entity": "WFP", "kind": "object"}), 422, "substantive reason")
    refused(
        wfp.post(path, {"entity": "WFP", "kind": "clear_with_comments"}),
        422,
        "editorial comments",
    )
    refused(wfp.post(path, {"entity": "NOPE", "kind": "clear"}), 422, "unknown entity 'NOPE'")
    refused(wfp.post(path, {"entity": "WFP", "kind": "maybe"}), 422)
    outsider = Entity.objects.exclude(acronym__in=list(cast.entities)).order_by("acronym").first()
    assert outsider is not None
    refused(
        secretariat.post(path, {"entity": outsider.acronym, "kind": "clear"}),
        422,
        f"{outsider.acronym} is not asked in this round.",
    )
    refused(
        wfp.post(
            f"/api/texts/{statement.key}/rounds/2/answers", {"entity": "WFP", "kind": "clear"}
        ),
        404,
        "No round 2",
    )
    refused(wfp.post(f"/api/texts/{statement.key}/rounds/99999999999/answers", {}), 422)
    assert not Answer.objects.exists()


def test_oversized_input_is_refused(as_, cast, statement):
    iom, key = as_("IOM"), statement.key
    refused(
        iom.post(
            "/api/texts",
            {
                "body": "gmg",
                "kind": "message",
                "title": "Too many leads",
                "leads": ["IOM"] * 31,
                "text": "x",
            },
        ),
        422,
        "leads",
    )
    refused(
        iom.post(
            f"/api/texts/{key}/versions/1/comments", {"kind": "editorial", "body": "x" * 20_001}
        ),
        422,
        "body",
    )
    refused(
        iom.post(
            f"/api/texts/{key}/versions/1/comments",
            {"kind": "editorial", "body": "x", "paragraph": 4},
        ),
        422,
        "paragraphs 1 to 3",
    )
    refused(iom.post(f"/api/texts/{key}/versions", {"text": "x" * 1_000_001}), 422, "text")
    refused(iom.get(f"/api/texts/{key}/versions/0"), 422)
    refused(iom.get(f"/api/texts/{key}/versions/2"), 404, "No version 2")
    refused(
        iom.post(f"/api/texts/{key}/comments/99999999999/resolution", {"resolution": "accepted"}),
        422,
    )
    refused(
        iom.post(f"/api/texts/{key}/comments/12345/resolution", {"resolution": "accepted"}), 404
    )


def test_starting_a_text_checks_who_and_what(as_, cast):
    base = {"body": "gmg", "kind": "message", "title": "A message", "text": "Hello."}
    refused(as_("FAO").post("/api/texts", {**base, "leads": ["IOM"]}), 403, "among the leads")
    refused(as_("IOM").post("/api/texts", {**base, "leads": []}), 422, "at least one lead")
    refused(as_("IOM").post("/api/texts", {**base, "leads": ["XYZ"]}), 422, "unknown entities: XYZ")
    refused(
        as_("IOM").post("/api/texts", {**base, "leads": ["IOM"], "drafters": ["no@example.org"]}),
        422,
        "unknown people: no@example.org",
    )
    refused(
        as_("IOM").post(
            "/api/texts", {**base, "leads": ["IOM"], "event": "pub-2017-data-handbook"}
        ),
        422,
        "event",
    )
    refused(
        as_("IOM").post("/api/texts", {**base, "leads": ["IOM"], "kind": "minutes"}), 422, "meeting"
    )
    refused(as_("IOM").post("/api/texts", {**base, "leads": ["IOM"], "text": "\n\n"}), 422, "empty")
    # A text its starter could not see would be of no use to them.
    refused(
        as_("IOM").post(
            "/api/texts",
            {**base, "leads": ["IOM"], "visibility": "entities", "audience_entities": ["FAO"]},
        ),
        422,
        "You would not see the text yourself",
    )
    refused(
        as_("IOM").post("/api/texts", {**base, "leads": ["IOM"], "visibility": "secretariat"}),
        422,
        "You would not see the text yourself",
    )
    assert not JointText.objects.exists()


def test_the_leads_change_the_details(as_, cast, statement):
    path = f"/api/texts/{statement.key}"
    refused(as_("FAO").send("PATCH", path, {"occasion": "Elsewhere"}), 403, "lead")
    changed = ok(as_("UNICEF").send("PATCH", path, {"leads": ["IOM", "FAO"]}))
    assert changed["leads"] == [
        {"entity": "IOM", "role": "lead"},
        {"entity": "FAO", "role": "lead"},
        {"entity": "UNICEF", "role": "co_lead"},
    ]
    changed = ok(
        as_("FAO").send(
            "PATCH",
            path,
            {"co_leads": ["WFP"], "occasion": "GFMD, Berlin", "language": "fr", "kind": "message"},
        )
    )
    assert [(lead["entity"], lead["role"]) for lead in changed["leads"]] == [
        ("IOM", "lead"),
        ("FAO", "lead"),
        ("WFP", "co_lead"),
    ]
    assert (changed["occasion"], changed["language"], changed["kind"]) == (
        "GFMD, Berlin",
        "fr",
        "message",
    )
    refused(as_("IOM").send("PATCH", path, {"kind": None}), 422)
    refused(as_("IOM").send("PATCH", path, {"leads": []}), 422, "at least one lead")
    refused(
        as_("IOM").send("PATCH", path, {"visibility": "entities", "audience_entities": ["FAO"]}),
        422,
        "You would not see the text yourself",
    )
    withdrawn = ok(as_("IOM").post(f"{path}/withdrawal", {"reason": "Overtaken by events."}))
    assert (withdrawn["status"], withdrawn["status_note"]) == ("withdrawn", "Overtaken by events.")
    refused(as_("IOM").send("PATCH", path, {"occasion": "x"}), 422, "withdrawn")


# -- referral to the Principals, and minutes -------------------------------------------------------


def _broken(cast, statement, clock) -> Round:
    round_ = services.open_round(
        statement, **cast.as_("IOM"), deadline=START + dt.timedelta(days=4)
    )
    services.answer(
        round_, **cast.as_("WFP"), entity=cast.entity("WFP"), kind="object", reason="No"
    )
    clock(START + dt.timedelta(days=5))
    return round_


def test_a_referred_text_is_decided_at_a_principals_meeting(as_, cast, statement, clock):
    _broken(cast, statement, clock)
    key = statement.key
    refused(
        as_("IOM").post(
            f"/api/texts/{key}/rounds/1/next-step",
            {"step": "new_version", "meeting": "mtg-2017-11-principals"},
        ),
        422,
        "only when referring",
    )
    referred = ok(
        as_("IOM").post(
            f"/api/texts/{key}/rounds/1/next-step",
            {"step": "referred", "meeting": "mtg-2017-11-principals"},
        )
    )
    assert referred["referred_to"] == "mtg-2017-11-principals"
    refused(
        as_("IOM").post(f"/api/texts/{key}/rounds/1/next-step", {"step": "returned"}),
        422,
        "chosen already",
    )
    path = "/api/meetings/mtg-2017-11-principals/text-decisions"
    refused(as_("WFP").post(path, {"text": key, "outcome": "adopted"}), 403, "chair in office")
    refused(
        as_("secretariat").post(path, {"text": "nope", "outcome": "noted"}), 422, "unknown text"
    )
    refused(
        as_("secretariat").post(
            "/api/meetings/nope/text-decisions", {"text": key, "outcome": "noted"}
        ),
        404,
    )
    refused(
        as_("secretariat").post(path, {"text": key, "outcome": "adopted", "objections": ["WFP"]}),
        422,
        "Consensus is blocked: WFP",
    )
    decided = ok(
        as_("secretariat").post(path, {"text": key, "outcome": "noted", "objections": ["WFP"]}),
        201,
    )
    assert (decided["outcome"], decided["objections"]) == ("noted", ["WFP"])
    assert ok(as_("IOM").get(f"/api/texts/{key}"))["status"] == "noted"
    assert Decision.objects.get(joint_text=statement).objections.get().acronym == "WFP"


def test_a_working_group_meeting_does_not_decide_for_the_principals(as_, cast, statement, clock):
    """UNICEF co-chairs wg-human-rights-gender, so it keeps that group's meetings: that must not
    let it adopt a text referred to the Principals of the whole GMG."""
    from gmg.core.services import save_record
    from gmg.workgroups.models import WorkingGroup

    round_ = _broken(cast, statement, clock)
    services.choose_next_step(round_, **cast.as_("IOM"), step="referred")
    group = WorkingGroup.objects.get(key="wg-human-rights-gender")
    save_record(
        Meeting(
            key="mtg-hrg-2018-02",
            body=cast.body,
            working_group=group,
            kind=Meeting.Kind.WORKING_LEVEL,
            title="The group meets",
            date="2018-02",
            visibility="body",
        ),
        by=SYSTEM,
    )
    refused(
        as_("UNICEF").post(
            "/api/meetings/mtg-hrg-2018-02/text-decisions",
            {"text": statement.key, "outcome": "adopted"},
        ),
        422,
        "Principals' meeting",
    )
    statement.refresh_from_db()
    assert statement.status == Status.REFERRED


def test_adopted_minutes_become_the_meetings_minutes_once(as_, cast, clock):
    meeting = Meeting.objects.get(key="mtg-2017-11-principals")
    minutes = new_text(
        as_,
        cast,
        kind="minutes",
        title="Minutes of the Principals, November 2017",
        meeting=meeting.key,
        co_leads=[],
    )
    key = minutes["key"]
    assert minutes["meeting"] == meeting.key
    ok(
        as_("IOM").post(
            f"/api/texts/{key}/rounds", {"deadline": iso(START + dt.timedelta(days=3))}
        ),
        201,
    )
    clock(START + dt.timedelta(days=3))
    made = ok(as_("secretariat").post(f"/api/texts/{key}/publication", {}), 201)
    document = Document.objects.get(uid=made["document"])
    assert (document.kind, document.meeting_id, made["output"]) == ("minutes", meeting.pk, None)
    refused(as_("secretariat").post(f"/api/texts/{key}/publication", {}), 422, "published already")
    assert Document.objects.filter(meeting=meeting, kind="minutes").count() == 1


# -- reading cost ------------------------------------------------------------------------------


def test_the_grid_costs_the_same_whatever_the_answers(
    as_, cast, statement, clock, django_assert_max_num_queries
):
    round_ = services.open_round(
        statement, **cast.as_("IOM"), deadline=START + dt.timedelta(days=4)
    )
    reader = as_("IOM")
    path = f"/api/texts/{statement.key}/rounds/1"
    reader.get(path)  # the token's first use is recorded once

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert reader.get(path).status_code == 200
        return len(queries)

    silent = cost()
    for hour, kind in ((1, "object"), (2, "clear_with_comments"), (3, "clear")):
        clock(START + dt.timedelta(hours=hour))
        for acronym in cast.entities:
            services.answer(
                round_,
                **cast.as_(acronym),
                entity=cast.entity(acronym),
                kind=kind,
                reason="Because.",
                comments="A comma.",
            )
    reader.get(path)  # time moved on: the token's use is recorded again, once
    with django_assert_max_num_queries(silent):
        grid = ok(reader.get(path))
    assert grid["counts"]["clear"] == 22
    assert {len(row["history"]) for row in grid["entities"]} == {3}
    assert silent <= 14, silent  # 6 to know the caller, 5 for the text, 2 for the grid


def test_the_list_costs_the_same_whatever_the_number_of_texts(
    as_, cast, clock, django_assert_max_num_queries
):
    reader = as_("IOM")
    first = new_text(as_, cast)
    ok(
        reader.post(
            f"/api/texts/{first['key']}/rounds", {"deadline": iso(START + dt.timedelta(days=3))}
        ),
        201,
    )

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert reader.get("/api/texts?page_size=100").status_code == 200
        return len(queries)

    one = cost()
    for n in range(5):
        text = services.start_text(
            JointText(body=cast.body, kind="message", title=f"Message {n}", visibility="body"),
            **cast.as_("IOM"),
            leads=[cast.entity("IOM")],
            first_draft="Hello.",
        )
        services.open_round(text, **cast.as_("IOM"), deadline=START + dt.timedelta(days=3))
    clock(START + dt.timedelta(days=4))  # every round overdue, none recorded as closed
    reader.get("/api/texts")
    with django_assert_max_num_queries(one):
        listed = ok(reader.get("/api/texts?page_size=100"))
    assert [t["status"] for t in listed["items"]] == ["adopted"] * 6


# -- the schema agrees with the models ------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "choices"),
    [
        (clearance_api.CommentKind, Comment.Kind.values),
        (clearance_api.AnswerKind, Answer.Kind.values),
        (clearance_api.NextStep, Round.NextStep.values),
        (clearance_api.DecisionOutcome, Decision.Outcome.values),
    ],
)
def test_the_api_choices_are_the_models(literal, choices):
    assert list(typing.get_args(literal)) == list(choices)


def test_a_person_chooses_the_daily_digest_through_the_api(as_, cast):
    from gmg.accounts.models import Person

    fao = as_("FAO")
    assert ok(fao.send("PUT", "/api/me/mail-preference", {"digest": True})) == {"digest": True}
    assert Person.objects.get(user=cast.user("FAO")).email_digest is True
    refused(fao.send("PUT", "/api/me/mail-preference", {"digest": "often"}), 422, "digest")
    assert Person.objects.get(user=cast.user("FAO")).email_digest is True
    assert as_(None).send("PUT", "/api/me/mail-preference", {"digest": False}).status_code == 401


def test_a_body_too_large_is_a_json_413_not_an_html_page(as_, cast):
    text = "A paragraph of a very long draft. " * 100_000  # 3.4 MB
    response = as_("IOM").post("/api/texts", {"body": "gmg", "title": "Long", "text": text})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than 2 MB" in response.json()["detail"]
    assert not JointText.objects.filter(title="Long").exists()
