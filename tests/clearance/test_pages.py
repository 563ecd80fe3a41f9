"""The joint texts' pages, driven by the Django test client as the people of ``cast``:
every page renders at every stage, forms refuse bad input with a message, and the entity
grid's query count does not grow with the number of entities or answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from gmg.clearance import notifications, services
from gmg.clearance.models import Answer, Comment, JointText, Status
from tests.clearance.conftest import START


def client_for(cast, name: str) -> Client:
    client = Client()
    user = cast.user(name)
    client.force_login(user)
    if name == "secretariat":
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
    return client


def url(name: str, *args) -> str:
    return reverse(f"members_area:{name}", args=args)


def test_start_comment_version_compare_round_answer_and_grid(cast, statement, clock):
    iom, unhcr, ilo = (client_for(cast, n) for n in ("IOM", "UNHCR", "ILO"))
    key = statement.key
    page = iom.get(url("text", key))
    assert page.status_code == 200
    assert b"Circulate version 1 for clearance" in page.content
    assert b"GFMD Friends of the Forum" in page.content

    # A substantive comment on paragraph 2, by UNHCR.
    response = unhcr.post(
        url("add_comment", key, 1),
        {"paragraph": 2, "kind": "substantive", "body": "Name refugees too."},
    )
    assert response.status_code == 302
    comment = Comment.objects.get(version__text=statement)
    assert (comment.paragraph, comment.kind, comment.entity.acronym) == (2, "substantive", "UNHCR")
    # UNHCR is not a drafter: resolving is refused with a message, nothing changes.
    unhcr.post(url("resolve_comment", key, comment.pk), {"resolution": "accepted"})
    comment.refresh_from_db()
    assert comment.resolution == "open"
    # Declining without a reason is refused; accepting works.
    iom.post(url("resolve_comment", key, comment.pk), {"resolution": "declined"})
    comment.refresh_from_db()
    assert comment.resolution == "open"
    iom.post(url("resolve_comment", key, comment.pk), {"resolution": "accepted"})
    comment.refresh_from_db()
    assert comment.resolution == "accepted"

    # Version 2, through the form (prefilled with version 1).
    form = iom.get(url("new_version", key))
    assert b"The Global Migration Group welcomes" in form.content
    response = iom.post(
        url("new_version", key),
        {
            "title": statement.title,
            "text": "New first paragraph.\n\n"
            + services.paragraphs.join(statement.versions.get(number=1).paragraphs).replace(
                "regardless of status", "and refugees' rights, regardless of status"
            ),
            "note": "UNHCR's comment",
        },
    )
    assert response.status_code == 302
    page = iom.get(url("text", key))
    # The comment was carried over to version 2, where its paragraph is now number 3.
    assert b'id="p-3"' in page.content
    assert b"carried over" in page.content and b"Accepted" in page.content
    compare = iom.get(url("compare", key) + "?from=1&to=2")
    assert b"<ins>and refugees&#x27; rights,</ins>" in compare.content
    assert b"diff-added" in compare.content
    assert iom.get(url("compare", key) + "?from=1&to=9").status_code == 404
    assert iom.get(url("compare", key) + "?from=x").status_code == 400

    # A deadline too soon is refused with the earliest allowed; a good one opens the round.
    soon = (START + dt.timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M")
    response = iom.post(url("open_round", key), {"deadline": soon, "time_zone": "UTC"}, follow=True)
    assert b"at least 72 hours ahead" in response.content
    response = iom.post(
        url("open_round", key),
        {"deadline": "2018-02-01T18:00", "time_zone": "Europe/Zurich"},
        follow=True,
    )
    assert b"22 entities are asked" in response.content
    round_ = statement.rounds.get()
    assert round_.deadline == dt.datetime(2018, 2, 1, 17, 0, tzinfo=dt.UTC)

    # ILO objects without a reason: a form error, nothing recorded; then with one.
    response = ilo.post(url("text_round", key, 1), {"entity": "ILO", "kind": "object"})
    assert b"substantive reason" in response.content
    ilo.post(url("text_round", key, 1), {"entity": "ILO", "kind": "object", "reason": "Para 3."})
    # ILO cannot answer for UNHCR (not offered, refused if forced).
    response = ilo.post(url("text_round", key, 1), {"entity": "UNHCR", "kind": "clear"})
    assert b"Select a valid choice" in response.content
    assert list(Answer.objects.values_list("entity__acronym", "kind")) == [("ILO", "object")]

    grid = iom.get(url("text_round", key, 1))
    assert b"silence broken" in grid.content and b"Para 3." in grid.content

    # After the deadline the grid says so and the leads choose the way on.
    clock(dt.datetime(2018, 2, 1, 17, 0, 1, tzinfo=dt.UTC))
    # Sessions last 12 hours: sign in again, days later.
    iom, unhcr = client_for(cast, "IOM"), client_for(cast, "UNHCR")
    late = unhcr.post(url("text_round", key, 1), {"entity": "UNHCR", "kind": "clear"})
    assert b"2018-02-01 17:00:00 UTC) has passed" in late.content
    assert not Answer.objects.filter(entity__acronym="UNHCR").exists()
    grid = iom.get(url("text_round", key, 1))
    assert b"Choose the way on" in grid.content
    iom.post(url("next_step", key, 1), {"step": "new_version", "note": "Fix para 3"})
    statement.refresh_from_db()
    assert statement.status == Status.REVISING


def test_grid_queries_do_not_grow_with_answers(
    cast, statement, clock, django_assert_max_num_queries
):
    round_ = services.open_round(
        statement, **cast.as_("IOM"), deadline=START + dt.timedelta(hours=80)
    )
    lead = client_for(cast, "IOM")
    with django_assert_max_num_queries(40) as few:
        assert lead.get(url("text_round", statement.key, 1)).status_code == 200
    for acronym in list(cast.entities)[:20]:
        services.answer(round_, **cast.as_(acronym), entity=cast.entity(acronym), kind="clear")
        services.answer(
            round_,
            **cast.as_(acronym),
            entity=cast.entity(acronym),
            kind="clear_with_comments",
            comments="A comma.",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = lead.get(url("text_round", statement.key, 1))
    assert page.content.count(b"Clear with editorial comments") >= 20


def test_publication_reaches_the_public_output_page(cast, statement, clock):
    services.open_round(statement, **cast.as_("IOM"), deadline=START + dt.timedelta(hours=72))
    clock(START + dt.timedelta(hours=73))
    notifications.tick()
    secretariat = client_for(cast, "secretariat")
    # A focal point may not publish: the secretariat does.
    client_for(cast, "IOM").post(url("publish_text", statement.key), {"visibility": "public"})
    statement.refresh_from_db()
    assert statement.output_id is None
    response = secretariat.post(url("publish_text", statement.key), {"visibility": "public"})
    statement.refresh_from_db()
    assert response.status_code == 302 and statement.output_id is not None
    public = Client().get(reverse("site:output", args=[statement.output.key]))
    assert public.status_code == 200
    assert b"Migrants&#x27; human rights must be protected" in public.content
    assert b"No answer (no objection)" in public.content
    # The public sees who cleared, not the members' record.
    assert b"The clearance record" not in public.content
    member = client_for(cast, "UNHCR").get(reverse("site:output", args=[statement.output.key]))
    assert b"The clearance record" in member.content


def test_lists_calendar_and_pages_hidden_from_others(cast, statement, clock):
    services.open_round(statement, **cast.as_("IOM"), deadline=START + dt.timedelta(hours=72))
    fao = client_for(cast, "FAO")
    listing = fao.get(url("texts"))
    assert (
        b"Awaiting your entity" in listing.content and statement.title.encode() in listing.content
    )
    from gmg.site.texts import calendar_url

    feed = Client().get(calendar_url(cast.user("FAO")).split("8000", 1)[-1])
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content
    assert b"DTSTART:20180201T090000Z" in feed.content
    assert Client().get(url("clearance_calendar", "nonsense")).status_code == 404
    # The public and a registered person without a role see nothing of a members' text.
    assert Client().get(url("text", statement.key)).status_code == 404
    assert Client().get(url("text_round", statement.key, 1)).status_code == 404
    assert fao.get(url("text", "no-such-text")).status_code == 404
    assert fao.get(url("text_version", statement.key, 7)).status_code == 404


@pytest.mark.parametrize("title", ["new", "calendar"])
def test_keys_never_shadow_page_addresses(cast, title):
    text = services.start_text(
        JointText(body=cast.body, kind="message", title=title, visibility="body"),
        **cast.as_("IOM"),
        leads=[cast.entity("IOM")],
        first_draft="Text.",
    )
    assert text.key == f"{title}-text"


def test_minutes_are_drafted_from_the_meeting_and_cleared_like_a_text(cast, clock):
    from gmg.governance.models import Meeting
    from gmg.repository.models import Document

    meeting = Meeting.objects.create(
        key="principals-2018",
        body=cast.body,
        kind="principals",
        title="Principals 2018",
        visibility="body",
    )
    secretariat = client_for(cast, "secretariat")
    page = secretariat.get(url("meeting", meeting.key))
    assert b"Draft the minutes for clearance" in page.content
    form = secretariat.get(url("new_text") + f"?meeting={meeting.key}")
    assert b'value="minutes" selected' in form.content
    response = secretariat.post(
        url("new_text"),
        {
            "title": "Minutes: Principals 2018",
            "kind": "minutes",
            "body": "gmg",
            "meeting": meeting.key,
            "language": "en",
            "leads": ["IOM"],
            "visibility": "body",
            "text": "The Principals met.\n\nThey agreed.",
        },
    )
    assert response.status_code == 302
    minutes = JointText.objects.get(meeting=meeting)
    assert b"Minutes in clearance" in secretariat.get(url("meeting", meeting.key)).content
    services.open_round(minutes, **cast.as_("IOM"), deadline=START + dt.timedelta(hours=72))
    clock(START + dt.timedelta(hours=72, seconds=1))
    published = services.publish(minutes, **cast.as_("secretariat"))
    assert isinstance(published, Document) and published.kind == "minutes"
    assert published.meeting == meeting and "They agreed." in published.text


def test_the_calendar_address_is_url_safe_whatever_the_password_hash(cast):
    """Argon2 hashes hold '/' and '+': a calendar address built from one broke the texts
    page (a 500) for some people. It changes when the password changes."""
    from gmg.site.texts import calendar_url

    user = cast.user("FAO")
    user.password = "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$ab/cd+ef/gh"
    user.save()
    before = calendar_url(user)
    assert client_for(cast, "FAO").get(url("texts")).status_code == 200
    assert Client().get(before.split("8000", 1)[-1]).status_code == 200
    user.set_password("another passphrase entirely")
    user.save()
    assert calendar_url(user) != before
    assert Client().get(before.split("8000", 1)[-1]).status_code == 404
