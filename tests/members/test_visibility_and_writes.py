"""The visibility rule's three forms agree; writes go through the audited services from the
back office and the API alike; the audit log is append-only; downloads are checked."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from gmg.accounts.models import AuditEntry
from gmg.core.visibility import (
    can_see,
    content_tokens,
    filter_visible,
    viewer_tokens,
    visible_among,
)
from gmg.governance.models import Meeting
from gmg.registry.models import Body, Entity, Membership
from gmg.repository.models import Document, Output
from gmg.repository.services import share_document
from gmg.workgroups.models import WorkingGroup
from tests.members.conftest import SYSTEM

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def restricted_documents(people) -> list[Document]:
    """One document per level (two for named entities), shared by the secretariat."""
    gmg = Body.objects.get(key="gmg")
    data = WorkingGroup.objects.get(key="wg-data-research")
    secretariat = people["secretariat"]
    unicef, wfp = Entity.objects.get(acronym="UNICEF"), Entity.objects.get(acronym="WFP")
    made = []
    for level, named in [
        ("public", []),
        ("body", []),
        ("working_group", []),
        ("entities", [unicef]),
        ("entities", [unicef, wfp]),
        ("secretariat", []),
    ]:
        document = Document(
            title=f"{level} paper {len(made)}",
            text="text",
            body=gmg,
            working_group=data if level == "working_group" else None,
            visibility=level,
            uploaded_by=secretariat.user,
        )
        share_document(document, viewer=secretariat.viewer(), by=SYSTEM, audience_entities=named)
        made.append(document)
    return made


def test_the_three_forms_of_the_rule_agree_on_every_row(people):
    documents = restricted_documents(people)
    for member in people.values():
        viewer = member.viewer()
        by_filter = set(filter_visible(Document.objects.all(), viewer).values_list("pk", flat=True))
        tokens = viewer_tokens(viewer)
        by_batch = {d.pk for d in visible_among(viewer, Document.objects.all())}
        assert by_batch == by_filter, member.name
        for document in documents:
            by_object = can_see(viewer, document)
            held = content_tokens(
                document.visibility,
                document.body_id,
                document.working_group_id,
                [e.pk for e in document.audience_entities.all()],
            )
            by_tokens = tokens is None or "restricted" not in held or bool(set(held) & tokens)
            assert (document.pk in by_filter) == by_object == by_tokens, (member.name, document)
    # And the expected audiences, spelt out.
    seen = {
        name: {d.title.split(" paper")[0] for d in documents if can_see(m.viewer(), d)}
        for name, m in people.items()
    }
    assert seen["secretariat"] == {"public", "body", "working_group", "entities", "secretariat"}
    assert seen["unicef"] == {"public", "body", "entities"}
    assert seen["fao_data"] == {"public", "body", "working_group"}
    assert seen["wfp_mainstreaming"] == {"public", "body", "entities"}
    assert seen["registered"] == {"public"}


def test_a_document_named_for_two_of_my_entities_is_listed_once(people):
    restricted_documents(people)
    titles = list(
        filter_visible(Document.objects.all(), people["unicef"].viewer()).values_list(
            "title", flat=True
        )
    )
    assert len(titles) == len(set(titles))


def test_the_audit_log_refuses_updates_and_deletes_for_everyone():
    entry = AuditEntry.objects.create(actor_label="test", action="test.append")
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="tampered"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.append"


def test_back_office_edits_go_through_the_service_with_before_and_after(clients):
    client = clients["secretariat"]
    membership = Membership.objects.get(body__key="gmg", entity__acronym="WHO")
    url = f"/admin/registry/membership/{membership.pk}/change/"
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "body": membership.body_id,
        "entity": membership.entity_id,
        "joined": "2010-13",  # not a month
        "left": "",
        "note": membership.note,
    }
    refused = client.post(url, data)
    assert refused.status_code == 200  # the form again, with the error on the field
    assert "2010-13" in refused.content.decode()
    membership.refresh_from_db()
    assert membership.joined == "2010"
    before = AuditEntry.objects.count()
    done = client.post(url, {**data, "joined": "2010-03"})
    assert done.status_code == 302
    membership.refresh_from_db()
    assert (membership.joined, str(membership.joined_start)) == ("2010-03", "2010-03-01")
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "registry.membership.update"
    assert entry.actor_label == "secretariat@example.org"
    assert (entry.before["joined"], entry.after["joined"]) == ("2010", "2010-03")


def test_deleting_a_record_others_refer_to_is_refused_with_their_names(clients, tokens):
    response = clients["anonymous"].delete(
        "/api/entities/UNICEF", HTTP_AUTHORIZATION=f"Bearer {tokens['secretariat']}"
    )
    assert response.status_code == 422
    assert "still referred to by" in response.json()["detail"]
    assert Entity.objects.filter(acronym="UNICEF").exists()


def test_api_output_round_trip_is_searchable_audited_and_checked(client, tokens):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['secretariat']}"}
    body = {
        "key": "pub-2019-test-zebrafinch",
        "body": "gmg",
        "type": "publication",
        "title": "Zebrafinch migration corridors",
        "date": "2018-05",
        "entities": [{"entity": "IOM", "role": "lead"}],
        "processes": [],
        "themes": [],
    }
    created = client.post("/api/outputs", json.dumps(body), "application/json", **auth)
    assert created.status_code == 201, created.content
    found = client.get("/api/outputs?q=zebrafinch").json()
    assert [o["key"] for o in found["items"]] == ["pub-2019-test-zebrafinch"]
    bad = client.patch(
        "/api/outputs/pub-2019-test-zebrafinch",
        json.dumps({"date": "May 2018"}),
        "application/json",
        **auth,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "date"]
    hidden = client.patch(
        "/api/outputs/pub-2019-test-zebrafinch",
        json.dumps({"visibility": "secretariat"}),
        "application/json",
        **auth,
    )
    assert hidden.status_code == 200
    assert client.get("/api/outputs?q=zebrafinch").json()["count"] == 0
    assert client.get("/api/outputs?q=zebrafinch", **auth).json()["count"] == 1
    gone = client.delete("/api/outputs/pub-2019-test-zebrafinch", **auth)
    assert gone.status_code == 204
    assert client.get("/api/outputs?q=zebrafinch", **auth).json()["count"] == 0
    actions = list(
        AuditEntry.objects.filter(object_key="pub-2019-test-zebrafinch")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "repository.output.create",
        "repository.output.update",
        "repository.output.delete",
    ]


def _share(member, **fields) -> Document:
    document = Document(
        title=fields.pop("title", "Paper"),
        body=Body.objects.get(key="gmg"),
        visibility=fields.pop("visibility", "body"),
        uploaded_by=member.user,
        **fields,
    )
    upload = SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf")
    return share_document(document, viewer=member.viewer(), by=SYSTEM, upload=upload)


def test_downloads_check_the_viewer_then_send_or_hand_to_nginx(people, clients, settings):
    document = _share(people["unicef"])
    url = f"/members-area/documents/{document.uid}/download/"
    assert clients["anonymous"].get(url).status_code == 404
    assert clients["registered"].get(url).status_code == 404
    sent = clients["wfp_mainstreaming"].get(url)  # a GMG member too
    assert sent.status_code == 200
    assert b"".join(sent.streaming_content) == PDF
    assert sent["Cache-Control"] == "private, no-store"
    assert "paper.pdf" in sent["Content-Disposition"]
    settings.GMG_X_ACCEL_REDIRECT_PREFIX = "/protected"
    handed = clients["unicef"].get(url)
    assert handed.status_code == 200
    assert handed["X-Accel-Redirect"] == f"/protected/{document.file.name}"
    assert handed.content == b""
    # The stored name says nothing about the document and is not under any served root.
    assert document.file.name.startswith("documents/") and "paper" not in document.file.name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.exe", b"MZ\x90\x00", "are not accepted"),
        ("report.pdf", b"MZ\x90\x00 not a pdf", "not a .pdf file"),
        ("notes.txt", b"\xff\xfe\x00binary\x00" * 100, "must be UTF-8"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_uploads_are_refused_by_type_and_content_and_nothing_is_kept(
    people, private_files, name, content, message
):
    before = Document.objects.count()
    stored_before = sorted(p for p in private_files.base_location.rglob("*") if p.is_file())
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=message):
        document = Document(
            title="x",
            body=Body.objects.get(key="gmg"),
            visibility="body",
            uploaded_by=people["unicef"].user,
        )
        share_document(
            document,
            viewer=people["unicef"].viewer(),
            by=SYSTEM,
            upload=SimpleUploadedFile(name, content),
        )
    assert Document.objects.count() == before
    assert sorted(p for p in private_files.base_location.rglob("*") if p.is_file()) == stored_before


def test_an_upload_over_the_limit_is_a_413_through_the_api(client, tokens, settings):
    settings.GMG_UPLOAD_MAX_BYTES = 1024
    big = io.BytesIO(PDF + b"0" * 4096)
    big.name = "big.pdf"
    response = client.post(
        "/api/documents",
        {"title": "Too big", "body": "gmg", "visibility": "body", "file": big},
        HTTP_AUTHORIZATION=f"Bearer {tokens['unicef']}",
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert not Document.objects.filter(title="Too big").exists()


def test_members_share_only_within_what_they_belong_to(people):
    from gmg.accounts.permissions import PermissionDenied

    with pytest.raises(PermissionDenied, match="public"):
        _share(people["unicef"], visibility="public")
    with pytest.raises(PermissionDenied, match="working group you belong to"):
        _share(
            people["unicef"],
            visibility="working_group",
            working_group=WorkingGroup.objects.get(key="wg-data-research"),
        )
    with pytest.raises(PermissionDenied, match="Only members"):
        _share(people["registered"])


def test_member_pages_cost_the_same_queries_with_few_or_many_documents(people, clients):
    """Visibility is one filter in the query, never a check per row (decidim#11964)."""

    def cost(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert clients["unicef"].get(path).status_code == 200
        return len(queries)

    _share(people["unicef"], title="first")
    few = {path: cost(path) for path in ("/members-area/", "/members-area/documents/")}
    for index in range(15):
        _share(people["unicef"], title=f"more {index}")
    many = {path: cost(path) for path in few}
    assert many == few
    assert max(many.values()) <= 20, many


def test_meeting_pages_show_only_the_papers_the_viewer_may_see(people, clients):
    meeting = Meeting.objects.get(key="mtg-2017-04-principals")
    _share(people["secretariat"], title="Seen by members", meeting=meeting)
    _share(
        people["secretariat"], title="Secretariat notes", meeting=meeting, visibility="secretariat"
    )
    page = clients["unicef"].get(f"/members-area/meetings/{meeting.key}/").content.decode()
    assert "Seen by members" in page and "Secretariat notes" not in page
    api = clients["unicef"].get(f"/api/meetings/{meeting.key}").json()
    assert [d["title"] for d in api["documents"]] == ["Seen by members"]
    assert Output.objects.exists()  # the record is loaded (sanity)


def test_co_chairs_keep_their_groups_meetings_and_the_chair_follows_the_term_in_force(
    people, clients
):
    from django.utils import timezone

    from gmg.core.services import save_record
    from gmg.governance.models import ChairTerm, ChairTermChair

    form = {
        "title": "Working group call",
        "kind": "working_level",
        "date": "2026-11-20",
        "body": "gmg",
        "working_group": "wg-human-rights-gender",  # UNICEF co-chairs it (the record)
        "visibility": "working_group",
        "agenda": "Welcome\nWorkplan 2027\n",
        "participants": ["UNICEF", "OHCHR"],
        "decisions": "Draft the brief by March.",
    }
    saved = clients["unicef"].post("/members-area/meetings/new/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    meeting = Meeting.objects.get(title="Working group call")
    assert [a.title for a in meeting.agenda_items.all()] == ["Welcome", "Workplan 2027"]
    assert sorted(p.entity.acronym for p in meeting.participants.all()) == ["OHCHR", "UNICEF"]
    page = clients["unicef"].get(saved["Location"]).content.decode()
    assert "Draft the brief by March." in page
    # Another group's member neither sees nor edits it.
    assert clients["wfp_mainstreaming"].get(saved["Location"]).status_code == 404
    edit = f"/members-area/meetings/{meeting.key}/edit/"
    assert clients["wfp_mainstreaming"].post(edit, form).status_code == 404
    # UNICEF chairs nothing in force: it cannot keep the body's own meetings.
    refused = clients["unicef"].post(
        "/members-area/meetings/new/", {**form, "working_group": "", "visibility": "body"}
    )
    assert refused.status_code == 200 and "chair in office" in refused.content.decode()
    # The chair's rights follow the term in force, as the record states it.
    network = Body.objects.get(key="un-network-on-migration")
    today = timezone.localdate()
    term = ChairTerm(key="test-term", body=network, start=str(today.year), end=str(today.year + 1))
    save_record(
        term,
        by=SYSTEM,
        children=lambda t: ChairTermChair.objects.create(
            term=t, entity=Entity.objects.get(acronym="WFP")
        ),
    )
    network_meeting = {
        **form,
        "body": "un-network-on-migration",
        "working_group": "",
        "visibility": "secretariat",
    }
    assert (
        clients["wfp_mainstreaming"]
        .post("/members-area/meetings/new/", network_meeting)
        .status_code
        == 302
    )
    other = clients["unicef"].post("/members-area/meetings/new/", network_meeting)
    assert other.status_code == 200 and "chair in office" in other.content.decode()
    assert Meeting.objects.filter(body=network, title="Working group call").count() == 1


def test_deactivating_a_person_ends_their_session_and_tokens_audited(people, clients, tokens):
    from gmg.accounts.models import Person

    unicef = people["unicef"]
    assert clients["unicef"].get("/members-area/").status_code == 200
    response = clients["secretariat"].post(
        "/admin/accounts/person/",
        {"action": "deactivate", "_selected_action": [unicef.person.pk]},
    )
    assert response.status_code == 302
    assert not Person.objects.get(pk=unicef.person.pk).user.is_active
    assert clients["unicef"].get("/members-area/").status_code == 302  # signed out
    api = clients["anonymous"].get("/api/me", HTTP_AUTHORIZATION=f"Bearer {tokens['unicef']}")
    assert api.status_code == 401
    entry = AuditEntry.objects.filter(action="accounts.person.deactivate").get()
    assert (entry.object_key, entry.actor_label) == (unicef.email, "secretariat@example.org")
