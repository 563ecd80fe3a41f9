"""The life of a joint text through the services: every transition of ``JointText.status``
and of a round (the diagram at the top of ``gmg.clearance.services``), every refusal with
the message the person sees, comments carried from version to version, and the diff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from gmg.accounts.models import AuditEntry
from gmg.accounts.permissions import PermissionDenied
from gmg.accounts.services import RoleSpec
from gmg.clearance import paragraphs, selectors, services
from gmg.clearance.models import Answer, Comment, JointText, Round, Status, Version
from gmg.governance.models import AgendaItem, Decision, Meeting
from gmg.registry.models import Entity
from gmg.repository.models import Document, Output, OutputEntity

from ._helpers import (  # noqa: F401 - fast_passwords is an autouse fixture
    SECOND,
    answer,
    broken_round,
    closed,
    fast_passwords,
    make_user,
    new_text,
    object_,
    open_round,
    said,
)
from .conftest import DRAFT, START, _person

pytestmark = pytest.mark.django_db

A = "The Global Migration Group welcomes the Global Compact process."
B = "Migrants' human rights must be protected regardless of status."
C = "The GMG stands ready to support Member States."


def status(text: JointText) -> str:
    text.refresh_from_db()
    return text.status


def principals_meeting(cast, key: str = "gmg-2018-03-principals", kind: str = "principals"):
    return Meeting.objects.create(
        key=key,
        body=cast.body,
        kind=kind,
        title=f"GMG {kind} meeting, March 2018",
        date="2018-03-15",
        visibility="body",
    )


def adopted(cast, clock, text: JointText) -> Round:
    round_ = open_round(cast, text)
    answer(cast, round_, "FAO")
    return closed(clock, round_)


def referred(cast, clock, text: JointText, meeting=None) -> Round:
    round_ = broken_round(cast, clock, text)
    return services.choose_next_step(
        round_, **cast.as_("IOM"), step="referred", note="For the Principals", meeting=meeting
    )


# -- starting a text ---------------------------------------------------------------------------


def test_a_lead_focal_point_starts_a_text_at_version_1(cast, statement):
    assert statement.status == Status.DRAFTING
    assert statement.key == "gmg-joint-statement-to-the-gfmd"
    (version,) = statement.versions.all()
    assert version.number == 1 and version.paragraphs == [A, B, C]
    assert services.lead_ids(statement) == {cast.entity("IOM").pk, cast.entity("UNICEF").pk}
    assert AuditEntry.objects.filter(
        action="clearance.text.create", object_key=statement.key
    ).exists()


def test_a_registered_user_without_a_role_cannot_start_a_text(cast):
    user = make_user("someone@example.org", entity=cast.entity("IOM"))
    from gmg.accounts.roles import viewer_for
    from gmg.accounts.services import Actor

    text = JointText(body=cast.body, kind="joint_statement", title="Not mine", visibility="body")
    with pytest.raises(PermissionDenied) as refused:
        services.start_text(
            text,
            viewer=viewer_for(user, verified=True),
            by=Actor.for_user(user),
            leads=[cast.entity("IOM")],
            first_draft=DRAFT,
        )
    assert said(refused) == (
        "Texts are started by the secretariat or by a Principal or focal point of a member."
    )
    assert not JointText.objects.filter(title="Not mine").exists()


def test_a_focal_point_of_a_non_member_cannot_start_a_text(cast):
    ocha = Entity.objects.get(acronym="OCHA")
    outsider = _person("ocha@example.org", "OCHA focal point", ocha, [RoleSpec("focal_point")])
    from gmg.accounts.roles import viewer_for
    from gmg.accounts.services import Actor

    text = JointText(body=cast.body, kind="joint_statement", title="Outside", visibility="body")
    with pytest.raises(PermissionDenied) as refused:
        services.start_text(
            text,
            viewer=viewer_for(outsider, verified=True),
            by=Actor.for_user(outsider),
            leads=[ocha],
            first_draft=DRAFT,
        )
    assert "Principal or focal point of a member" in said(refused)


def test_a_focal_point_must_be_among_the_leads_of_a_text_it_starts(cast):
    text = JointText(body=cast.body, kind="joint_statement", title="For others", visibility="body")
    with pytest.raises(PermissionDenied) as refused:
        services.start_text(text, **cast.as_("FAO"), leads=[cast.entity("IOM")], first_draft=DRAFT)
    assert said(refused) == "Your entity must be among the leads or co-leads of a text it starts."


def test_a_text_needs_a_lead_and_words(cast):
    text = JointText(body=cast.body, kind="joint_statement", title="Empty", visibility="body")
    with pytest.raises(ValidationError) as refused:
        services.start_text(text, **cast.as_("secretariat"), leads=[], first_draft=DRAFT)
    assert said(refused) == "Name at least one lead entity."
    with pytest.raises(ValidationError) as refused:
        services.start_text(
            text, **cast.as_("IOM"), leads=[cast.entity("IOM")], first_draft=" \n\n \n"
        )
    assert said(refused) == "The text is empty."


# -- versions ----------------------------------------------------------------------------------


def test_a_new_version_while_drafting(cast, statement):
    version = services.add_version(
        statement, **cast.as_("UNICEF"), content=f"{A}\n\n{B} Always.\n\n{C}", note="firmer"
    )
    assert version.number == 2 and version.paragraphs[1] == f"{B} Always."
    assert status(statement) == Status.DRAFTING
    assert list(statement.versions.values_list("number", flat=True)) == [1, 2]


def test_a_drafter_adds_versions_but_another_member_does_not(cast, statement):
    services.update_text(statement, **cast.as_("IOM"), changes={}, drafters=[cast.user("UNHCR")])
    services.add_version(statement, **cast.as_("UNHCR"), content=f"{A}\n\n{C}")
    with pytest.raises(PermissionDenied) as refused:
        services.add_version(statement, **cast.as_("FAO"), content=f"{A}")
    assert said(refused) == "Only the drafters, the leads and the secretariat do this."


def test_the_same_text_again_is_not_a_new_version(cast, statement):
    with pytest.raises(ValidationError) as refused:
        # Line breaks inside a paragraph and extra blank lines change nothing.
        services.add_version(
            statement,
            **cast.as_("IOM"),
            content=f"\n\n{A}\n\n\n{B}\n\nThe GMG stands ready\nto support Member States.",
        )
    assert said(refused) == "This is the same as version 1: nothing changed."
    assert statement.versions.count() == 1


def test_an_empty_version_is_refused(cast, statement):
    for empty in ("", "   \n\n\t\n"):
        with pytest.raises(ValidationError) as refused:
            services.add_version(statement, **cast.as_("IOM"), content=empty)
        assert said(refused) == "The text is empty."


def test_no_new_version_during_clearance(cast, statement):
    open_round(cast, statement)
    with pytest.raises(ValidationError) as refused:
        services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}")
    assert said(refused) == "The text is in clearance: no new version now."
    assert statement.versions.count() == 1


def test_no_new_version_after_silence_broke_until_the_leads_choose(cast, clock, statement):
    round_ = open_round(cast, statement)
    object_(cast, round_, "FAO")
    clock(round_.deadline + SECOND)  # no tick has recorded the closing: the write settles it
    with pytest.raises(ValidationError) as refused:
        services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}")
    assert said(refused) == (
        "The text is waiting for the leads to choose the way on after an objection: "
        "no new version now."
    )
    statement.refresh_from_db()
    assert selectors.status_of(statement) == Status.SILENCE_BROKEN


def test_a_new_version_when_revising_returns_the_text_to_drafting(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    services.choose_next_step(round_, **cast.as_("IOM"), step="new_version")
    assert status(statement) == Status.REVISING
    services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}", note="FAO's point")
    assert status(statement) == Status.DRAFTING


def test_a_returned_text_takes_new_versions(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    services.choose_next_step(round_, **cast.as_("IOM"), step="returned", note="Start again")
    assert status(statement) == Status.RETURNED
    version = services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}")
    assert version.number == 2


def test_no_new_version_once_adopted_noted_or_withdrawn(cast, clock, statement):
    adopted(cast, clock, statement)
    with pytest.raises(ValidationError) as refused:
        services.add_version(statement, **cast.as_("IOM"), content=A)
    assert said(refused) == "The text is adopted: no new version now."

    noted = new_text(cast, "To be noted")
    referred(cast, clock, noted, meeting=None)
    services.decide_on_text(
        principals_meeting(cast), noted, **cast.as_("secretariat"), outcome="noted"
    )
    with pytest.raises(ValidationError) as refused:
        services.add_version(noted, **cast.as_("IOM"), content=A)
    assert said(refused) == "The text is noted by the Principals: no new version now."

    gone = new_text(cast, "To be withdrawn")
    services.withdraw(gone, **cast.as_("IOM"), reason="Overtaken by events")
    with pytest.raises(ValidationError) as refused:
        services.add_version(gone, **cast.as_("IOM"), content=A)
    assert said(refused) == "The text is withdrawn: no new version now."


def test_a_version_is_never_overwritten(cast, statement):
    version = Version.objects.get(text=statement, number=1)
    version.paragraphs = ["Something else entirely."]
    with pytest.raises(ValidationError) as refused:
        version.save()
    assert said(refused) == "A version is never changed: add a new version instead."
    assert Version.objects.get(pk=version.pk).paragraphs == [A, B, C]
    with pytest.raises(ValidationError):
        Version.objects.get(pk=version.pk).save(update_fields=["note"])


# -- comments ----------------------------------------------------------------------------------


def test_comments_on_a_paragraph_and_on_the_whole_text(cast, statement):
    version = statement.versions.get()
    on_b = services.add_comment(
        version, **cast.as_("FAO"), kind="substantive", body="Too strong.", paragraph=2
    )
    whole = services.add_comment(version, **cast.as_("secretariat"), kind="editorial", body="Ok")
    assert on_b.quote == B and on_b.entity == cast.entity("FAO")
    assert whole.paragraph is None and whole.quote == "" and whole.entity is None


def test_a_comment_on_a_paragraph_the_version_lacks_is_refused(cast, statement):
    version = statement.versions.get()
    for number in (0, 4):
        with pytest.raises(ValidationError) as refused:
            services.add_comment(
                version, **cast.as_("FAO"), kind="editorial", body="Typo", paragraph=number
            )
        assert said(refused) == "Version 1 has paragraphs 1 to 3."
    with pytest.raises(ValidationError) as refused:
        services.add_comment(version, **cast.as_("FAO"), kind="rude", body="x")
    assert said(refused) == "A comment is editorial or substantive."
    with pytest.raises(ValidationError) as refused:
        services.add_comment(version, **cast.as_("FAO"), kind="editorial", body="  ")
    assert said(refused) == "Write the comment."
    assert not Comment.objects.exists()


def test_comments_close_once_the_text_is_adopted(cast, clock, statement):
    adopted(cast, clock, statement)
    with pytest.raises(ValidationError) as refused:
        services.add_comment(
            statement.versions.get(), **cast.as_("FAO"), kind="editorial", body="Late"
        )
    assert said(refused) == "The text is adopted: comments are closed."


def test_resolving_comments(cast, statement):
    version = statement.versions.get()
    comment = services.add_comment(
        version, **cast.as_("FAO"), kind="substantive", body="Too strong.", paragraph=2
    )
    with pytest.raises(ValidationError) as refused:
        services.resolve_comment(comment, **cast.as_("IOM"), resolution="declined", reason=" ")
    assert said(refused) == "Say why the comment is declined."
    with pytest.raises(ValidationError) as refused:
        services.resolve_comment(comment, **cast.as_("IOM"), resolution="open")
    assert said(refused) == "Resolve a comment as accepted or declined."
    for outsider in ("FAO", "WHO"):  # the author's own entity and a bystander
        with pytest.raises(PermissionDenied) as refused:
            services.resolve_comment(comment, **cast.as_(outsider), resolution="accepted")
        assert said(refused) == "Only the drafters, the leads and the secretariat do this."
    comment.refresh_from_db()
    assert comment.resolution == Comment.Resolution.OPEN

    services.resolve_comment(
        comment, **cast.as_("UNICEF"), resolution="declined", reason="Agreed language"
    )
    comment.refresh_from_db()
    assert (comment.resolution, comment.reason) == ("declined", "Agreed language")
    assert comment.resolved_by == cast.user("UNICEF") and comment.resolved_at == START
    services.resolve_comment(comment, **cast.as_("secretariat"), resolution="accepted")
    services.update_text(statement, **cast.as_("IOM"), changes={}, drafters=[cast.user("ILO")])
    services.resolve_comment(comment, **cast.as_("ILO"), resolution="accepted")
    comment.refresh_from_db()
    assert comment.resolution == "accepted" and comment.resolved_by == cast.user("ILO")


def test_comments_follow_their_paragraph_to_later_versions(cast, statement):
    v1 = statement.versions.get()
    on_a = services.add_comment(v1, **cast.as_("FAO"), kind="editorial", body="a", paragraph=1)
    on_b = services.add_comment(v1, **cast.as_("WHO"), kind="substantive", body="b", paragraph=2)
    on_c = services.add_comment(v1, **cast.as_("ILO"), kind="editorial", body="c", paragraph=3)
    whole = services.add_comment(v1, **cast.as_("UNDP"), kind="editorial", body="all")
    x = "A new first paragraph on the Global Compact for Safe, Orderly and Regular Migration."
    y = "Another new paragraph, on data, evidence and the 2030 Agenda."
    # Two paragraphs inserted before the ones commented on.
    v2 = services.add_version(statement, **cast.as_("IOM"), content="\n\n".join([x, y, A, B, C]))
    placed = {p.comment.pk: p for p in selectors.comments_on(statement, v2)}
    assert {k: p.paragraph for k, p in placed.items()} == {
        on_a.pk: 3,
        on_b.pk: 4,
        on_c.pk: 5,
        whole.pk: None,
    }
    assert all(p.carried for p in placed.values())
    on_y = services.add_comment(v2, **cast.as_("FAO"), kind="editorial", body="y", paragraph=2)

    # B goes; C is reworded a little.
    c2 = "The GMG stands ready to support all Member States."
    v3 = services.add_version(statement, **cast.as_("IOM"), content="\n\n".join([x, y, A, c2]))
    placed = {p.comment.pk: p for p in selectors.comments_on(statement, v3)}
    assert {k: p.paragraph for k, p in placed.items()} == {
        on_a.pk: 3,
        on_b.pk: None,  # its paragraph was removed
        on_c.pk: 4,
        whole.pk: None,
        on_y.pk: 2,
    }
    # On the version they were made on, comments stay where they were made.
    placed = {p.comment.pk: p for p in selectors.comments_on(statement, v2)}
    assert placed[on_y.pk].paragraph == 2 and not placed[on_y.pk].carried
    assert placed[on_b.pk].paragraph == 4


def test_a_comment_follows_its_paragraph_when_it_is_reworded_after_an_insertion(cast, statement):
    """The commented paragraph is edited and a new one comes before it, in the same
    version: the comment is still on it, not lost as if the paragraph were removed."""
    v1 = statement.versions.get()
    on_b = services.add_comment(v1, **cast.as_("WHO"), kind="substantive", body="b", paragraph=2)
    x = "A new paragraph on the Global Compact for Safe, Orderly and Regular Migration."
    b2 = "Migrants' human rights must be protected at all times regardless of status."
    v2 = services.add_version(statement, **cast.as_("IOM"), content="\n\n".join([A, x, b2, C]))
    (placed,) = selectors.comments_on(statement, v2)
    assert placed.comment == on_b and placed.paragraph == 3


# -- opening a round ---------------------------------------------------------------------------


def test_a_lead_opens_a_round_asking_every_member(cast, statement):
    round_ = open_round(cast, statement, by="UNICEF")  # a co-lead may open it too
    assert round_.number == 1 and round_.version.number == 1
    assert round_.deadline == START + dt.timedelta(hours=72)
    assert round_.deadline.utcoffset() == dt.timedelta(0)
    assert round_.asked.count() == 22
    assert set(round_.asked.values_list("acronym", flat=True)) == set(cast.entities)
    assert status(statement) == Status.IN_CLEARANCE  # (refreshed)
    assert selectors.status_of(statement) == Status.IN_CLEARANCE


def test_only_the_leads_open_a_round(cast, statement):
    with pytest.raises(PermissionDenied) as refused:
        open_round(cast, statement, by="FAO")
    assert said(refused) == "Only the lead and co-lead entities (or the secretariat) do this."
    assert not statement.rounds.exists() and status(statement) == Status.DRAFTING


def test_a_round_does_not_open_twice(cast, statement):
    open_round(cast, statement)
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, hours=96)
    assert said(refused) == "The text is in clearance: a round cannot open now."
    assert statement.rounds.count() == 1


def test_a_round_circulates_the_latest_version(cast, statement):
    v1 = statement.versions.get()
    services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}")
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, version=v1)
    assert said(refused) == "Circulate the latest version (2), not version 1."
    other = new_text(cast, "Another text")
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, version=other.versions.get())
    assert said(refused) == "Choose a version of this text."
    assert not statement.rounds.exists()


def test_the_deadline_gives_72_hours_notice(cast, statement):
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, hours=72 - 1 / 3600)
    assert said(refused) == (
        "The deadline must be at least 72 hours ahead: 2018-02-01 09:00 UTC or later."
    )
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, hours=-1)
    assert "at least 72 hours ahead" in said(refused)
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, hours=366 * 24)
    assert said(refused) == "The deadline is more than a year ahead."
    assert not statement.rounds.exists()
    assert open_round(cast, statement, hours=72).deadline == START + dt.timedelta(hours=72)


def test_a_naive_deadline_is_refused(cast, statement):
    with pytest.raises(ValidationError) as refused:
        services.open_round(statement, **cast.as_("IOM"), deadline=dt.datetime(2018, 2, 5, 12))  # noqa: DTZ001
    assert said(refused) == "Give the deadline with its time zone (it is kept in UTC)."


def test_a_body_policy_sets_the_minimum_notice(cast, statement):
    with pytest.raises(PermissionDenied) as refused:
        services.set_policy(cast.body, **cast.as_("IOM"), minimum_notice_hours=24)
    assert said(refused) == "The secretariat sets how a body clears texts."
    for wrong in (0, 24 * 60 + 1):
        with pytest.raises(ValidationError) as refused:
            services.set_policy(cast.body, **cast.as_("secretariat"), minimum_notice_hours=wrong)
        assert said(refused) == "Between 1 hour and 60 days."
    policy = services.set_policy(cast.body, **cast.as_("secretariat"), minimum_notice_hours=24)
    assert policy.minimum_notice_hours == 24 and services.notice_hours(cast.body) == 24
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement, hours=23)
    assert said(refused) == (
        "The deadline must be at least 24 hours ahead: 2018-01-30 09:00 UTC or later."
    )
    assert open_round(cast, statement, hours=24).deadline == START + dt.timedelta(hours=24)
    # A longer notice is the body's too.
    services.set_policy(cast.body, **cast.as_("secretariat"), minimum_notice_hours=120)
    other = new_text(cast, "Needs five days")
    with pytest.raises(ValidationError) as refused:
        open_round(cast, other, hours=72)
    assert "at least 120 hours ahead: 2018-02-03 09:00 UTC" in said(refused)


# -- answers -----------------------------------------------------------------------------------


def test_an_entity_answers_for_itself(cast, statement):
    round_ = open_round(cast, statement)
    given = answer(cast, round_, "FAO", "clear_with_comments", comments="Para 2: 'regardless'")
    assert (given.entity, given.kind, given.on_behalf) == (
        cast.entity("FAO"),
        "clear_with_comments",
        False,
    )
    assert given.answered_by == cast.user("FAO") and given.answered_at == START


def test_an_entity_not_asked_cannot_answer(cast, statement):
    round_ = open_round(cast, statement)
    ocha = Entity.objects.get(acronym="OCHA")
    with pytest.raises(ValidationError) as refused:
        services.answer(round_, **cast.as_("secretariat"), entity=ocha, kind="clear")
    assert said(refused) == "OCHA is not asked in this round."
    assert not round_.answers.exists()


def test_no_one_answers_for_another_entity(cast, statement):
    round_ = open_round(cast, statement)
    with pytest.raises(PermissionDenied) as refused:
        answer(cast, round_, "FAO", entity="UNICEF")
    assert said(refused) == "Only UNICEF's Principal or focal point answers for it."
    assert not round_.answers.exists()


def test_the_secretariat_records_an_answer_on_an_entitys_behalf(cast, statement):
    round_ = open_round(cast, statement)
    given = answer(cast, round_, "secretariat", "object", entity="WHO", reason="By email: no")
    assert given.on_behalf is True and given.entity == cast.entity("WHO")
    assert given.answered_by == cast.user("secretariat")
    entry = AuditEntry.objects.get(action="clearance.answer", object_key=statement.key)
    assert entry.after["on_behalf"] is True and entry.after["entity"] == "WHO"


def test_an_objection_states_its_reason_and_comments_are_given(cast, statement):
    round_ = open_round(cast, statement)
    with pytest.raises(ValidationError) as refused:
        answer(cast, round_, "FAO", "object", reason="  ")
    assert said(refused) == "An objection states its substantive reason."
    with pytest.raises(ValidationError) as refused:
        answer(cast, round_, "FAO", "clear_with_comments", comments="")
    assert said(refused) == "Give the editorial comments (or simply clear)."
    with pytest.raises(ValidationError) as refused:
        answer(cast, round_, "FAO", "abstain")
    assert said(refused) == "Answer clear, clear with comments, or object."
    assert not round_.answers.exists()


# -- the close ---------------------------------------------------------------------------------


def test_silence_adopts_the_text_and_lists_the_silent(cast, clock, statement):
    round_ = open_round(cast, statement)
    answer(cast, round_, "FAO")
    answer(cast, round_, "WHO", "clear_with_comments", comments="Typo in para 3")
    answer(cast, round_, "IOM")
    round_ = closed(clock, round_)
    assert round_.outcome == Round.Outcome.ADOPTED and round_.closed_at is not None
    statement.refresh_from_db()
    assert statement.status == Status.ADOPTED
    assert statement.adopted_version == round_.version
    assert statement.adopted_at == round_.deadline
    grid = selectors.grid(round_)
    assert grid.outcome == "adopted"
    assert grid.counts == {
        "asked": 22,
        "clear": 2,
        "clear_with_comments": 1,
        "object": 0,
        "silent": 19,
    }
    assert {e.acronym for e in grid.silent()} == set(cast.entities) - {"FAO", "WHO", "IOM"}
    assert AuditEntry.objects.get(action="clearance.round.close").after["outcome"] == "adopted"


def test_an_objection_breaks_silence(cast, clock, statement):
    round_ = open_round(cast, statement)
    answer(cast, round_, "WHO")
    object_(cast, round_, "FAO", "Paragraph 2 is not agreed language.")
    assert selectors.grid(round_).silence_broken  # visible while the round is open
    statement.refresh_from_db()
    assert selectors.status_of(statement) == Status.IN_CLEARANCE
    round_ = closed(clock, round_)
    assert round_.outcome == Round.Outcome.SILENCE_BROKEN
    statement.refresh_from_db()
    assert statement.status == Status.SILENCE_BROKEN
    assert statement.adopted_version is None and statement.adopted_at is None


def test_an_objection_withdrawn_before_the_deadline_no_longer_counts(cast, clock, statement):
    round_ = open_round(cast, statement)
    first = object_(cast, round_, "FAO")
    clock(START + dt.timedelta(hours=30))
    second = answer(cast, round_, "FAO", "clear")
    round_ = closed(clock, round_)
    assert round_.outcome == Round.Outcome.ADOPTED
    assert status(statement) == Status.ADOPTED
    kept = list(Answer.objects.filter(round=round_, entity=cast.entity("FAO")))
    assert kept == [first, second]  # both kept, oldest first
    (row,) = [r for r in selectors.grid(round_).rows if r.entity.acronym == "FAO"]
    assert row.answer == second and row.history == [first, second]


# -- the way on after an objection -------------------------------------------------------------


def test_the_leads_choose_a_new_version_and_a_new_round(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    chosen = services.choose_next_step(
        round_, **cast.as_("UNICEF"), step="new_version", note="Meet FAO's point"
    )
    assert (chosen.next_step, chosen.next_step_by) == ("new_version", cast.user("UNICEF"))
    assert status(statement) == Status.REVISING
    services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}")
    second = open_round(cast, statement)
    assert (second.number, second.version.number) == (2, 2)
    assert status(statement) == Status.IN_CLEARANCE


def test_the_leads_return_the_text(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    services.choose_next_step(round_, **cast.as_("IOM"), step="returned", note="Rethink")
    statement.refresh_from_db()
    assert (statement.status, statement.status_note) == (Status.RETURNED, "Rethink")
    second = open_round(cast, statement)  # a returned text may circulate again
    assert second.number == 2


def test_the_leads_refer_the_text_to_a_principals_meeting(cast, clock, statement):
    meeting = principals_meeting(cast)
    AgendaItem.objects.create(meeting=meeting, position=1, title="Opening")
    round_ = referred(cast, clock, statement, meeting=meeting)
    assert round_.referred_to == meeting and round_.next_step == "referred"
    assert status(statement) == Status.REFERRED
    item = meeting.agenda_items.get(joint_text=statement)
    assert item.position == 2
    assert item.title == "Referred for decision: GMG joint statement to the GFMD"


def test_referral_without_a_meeting(cast, clock, statement):
    round_ = referred(cast, clock, statement)
    assert round_.referred_to is None and status(statement) == Status.REFERRED
    assert not AgendaItem.objects.filter(joint_text=statement).exists()


def test_referral_to_a_meeting_that_is_not_the_principals_is_refused(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    working = principals_meeting(cast, "gmg-2018-03-working-level", kind="working_level")
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(round_, **cast.as_("IOM"), step="referred", meeting=working)
    assert said(refused) == "Refer to a Principals' meeting of the same body."
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(
            round_, **cast.as_("IOM"), step="returned", meeting=principals_meeting(cast)
        )
    assert said(refused) == "A meeting is named only when referring."
    assert status(statement) == Status.SILENCE_BROKEN
    assert not AgendaItem.objects.filter(joint_text=statement).exists()


def test_no_way_on_to_choose_after_adoption(cast, clock, statement):
    round_ = adopted(cast, clock, statement)
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(round_, **cast.as_("IOM"), step="new_version")
    assert said(refused) == "The way on is chosen after a round closes with an objection."
    assert status(statement) == Status.ADOPTED


def test_no_way_on_to_choose_while_the_round_is_open(cast, statement):
    round_ = open_round(cast, statement)
    object_(cast, round_, "FAO")
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(round_, **cast.as_("IOM"), step="returned")
    assert said(refused) == "The way on is chosen after a round closes with an objection."


def test_the_way_on_is_chosen_once(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    services.choose_next_step(round_, **cast.as_("IOM"), step="returned")
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(round_, **cast.as_("IOM"), step="referred")
    assert said(refused) == "The way on from this round was chosen already."
    round_.refresh_from_db()
    assert round_.next_step == "returned" and status(statement) == Status.RETURNED


def test_only_the_leads_choose_the_way_on(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    with pytest.raises(PermissionDenied) as refused:
        services.choose_next_step(round_, **cast.as_("FAO"), step="returned")
    assert said(refused) == "Only the lead and co-lead entities (or the secretariat) do this."
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(round_, **cast.as_("IOM"), step="ignore")
    assert said(refused) == "Choose a new version, return to the drafters, or refer."
    assert status(statement) == Status.SILENCE_BROKEN


# -- the Principals decide on a referred text --------------------------------------------------


def test_the_principals_adopt_a_referred_text(cast, clock, statement):
    meeting = principals_meeting(cast)
    round_ = referred(cast, clock, statement, meeting=meeting)
    decision = services.decide_on_text(meeting, statement, **cast.as_("IOM"), outcome="adopted")
    statement.refresh_from_db()
    assert statement.status == Status.ADOPTED
    assert statement.adopted_version == round_.version
    assert statement.adopted_at == round_.deadline + dt.timedelta(seconds=1)  # the clock's now
    assert decision.outcome == "adopted" and decision.joint_text == statement
    assert decision.agenda_item == meeting.agenda_items.get(joint_text=statement)
    assert decision.text == "The Principals adopted “GMG joint statement to the GFMD”."


def test_a_recorded_objection_blocks_adoption_but_the_text_may_be_noted(cast, clock, statement):
    meeting = principals_meeting(cast)
    referred(cast, clock, statement, meeting=meeting)
    fao = cast.entity("FAO")
    with pytest.raises(ValidationError) as refused:
        services.decide_on_text(
            meeting, statement, **cast.as_("secretariat"), outcome="adopted", objections=[fao]
        )
    assert said(refused) == (
        "Consensus is blocked: FAO recorded an objection. The Principals may note the text instead."
    )
    assert status(statement) == Status.REFERRED and not Decision.objects.exists()
    decision = services.decide_on_text(
        meeting, statement, **cast.as_("secretariat"), outcome="noted", objections=[fao]
    )
    assert status(statement) == Status.NOTED
    assert list(decision.objections.all()) == [fao]


def test_the_principals_return_a_text_to_the_drafters(cast, clock, statement):
    meeting = principals_meeting(cast)
    referred(cast, clock, statement, meeting=meeting)
    services.decide_on_text(
        meeting, statement, **cast.as_("secretariat"), outcome="returned", note="Shorter"
    )
    statement.refresh_from_db()
    assert (statement.status, statement.status_note) == (Status.RETURNED, "Shorter")
    assert services.add_version(statement, **cast.as_("IOM"), content=A).number == 2


def test_only_referred_texts_are_decided(cast, clock, statement):
    meeting = principals_meeting(cast)
    with pytest.raises(ValidationError) as refused:
        services.decide_on_text(meeting, statement, **cast.as_("secretariat"), outcome="noted")
    assert said(refused) == (
        "The text is being drafted: only referred texts are decided at a meeting."
    )
    with pytest.raises(ValidationError) as refused:
        services.decide_on_text(meeting, statement, **cast.as_("secretariat"), outcome="shelved")
    assert said(refused) == "Decide to adopt, note or return the text."
    assert status(statement) == Status.DRAFTING


def test_only_the_secretariat_or_the_chair_in_office_records_the_decision(cast, clock, statement):
    meeting = principals_meeting(cast)
    referred(cast, clock, statement, meeting=meeting)
    # In 2018 FAO and IOM chaired the GMG; UNICEF, a co-lead of the text, did not.
    with pytest.raises(PermissionDenied) as refused:
        services.decide_on_text(meeting, statement, **cast.as_("UNICEF"), outcome="adopted")
    assert said(refused) == "Decisions are recorded by the secretariat or the chair in office."
    assert status(statement) == Status.REFERRED
    services.decide_on_text(meeting, statement, **cast.as_("FAO"), outcome="noted")
    assert status(statement) == Status.NOTED


# -- publication -------------------------------------------------------------------------------


def test_the_secretariat_publishes_an_adopted_text_as_an_output(cast, clock, statement):
    services.add_version(statement, **cast.as_("IOM"), content=f"{A}\n\n{C}", title="Final")
    round_ = adopted(cast, clock, statement)
    output = services.publish(statement, **cast.as_("secretariat"))
    assert isinstance(output, Output)
    output.refresh_from_db()
    assert output.type == "joint_statement" and output.visibility == "public"
    assert output.title == "Final" and output.key == statement.key
    assert output.description == f"{A}\n\n{C}"
    assert output.date == "2018-02-01" == round_.deadline.date().isoformat()
    assert output.occasion == "GFMD Friends of the Forum, 5 February 2018"
    assert output.body == cast.body
    links = list(OutputEntity.objects.filter(output=output).order_by("position"))
    assert [(link.entity.acronym, link.role) for link in links] == [
        ("IOM", "lead"),
        ("UNICEF", "co_lead"),
    ]
    statement.refresh_from_db()
    assert statement.output == output and statement.status == Status.ADOPTED


def test_publication_names_the_event_the_text_was_delivered_at(cast, clock):
    event = Output.objects.filter(body=cast.body, type="event").exclude(location="").first()
    text = new_text(cast, "Delivered at an event", event=event, kind="message")
    adopted(cast, clock, text)
    output = services.publish(text, **cast.as_("secretariat"), visibility="body")
    assert output.type == "message" and output.visibility == "body"
    assert list(output.related.all()) == [event]
    assert output.location == event.location


def test_publication_is_the_secretariats_once_and_only_of_adopted_texts(cast, clock, statement):
    with pytest.raises(ValidationError) as refused:
        services.publish(statement, **cast.as_("secretariat"))
    assert said(refused) == "The text is being drafted: only adopted texts are published."
    adopted(cast, clock, statement)
    with pytest.raises(PermissionDenied) as refused:
        services.publish(statement, **cast.as_("IOM"))
    assert said(refused) == "The secretariat publishes adopted texts."
    with pytest.raises(ValidationError) as refused:
        services.publish(statement, **cast.as_("secretariat"), visibility="secretariat")
    assert said(refused) == "Publish to the public or to the body's members."
    services.publish(statement, **cast.as_("secretariat"))
    with pytest.raises(ValidationError) as refused:
        services.publish(statement, **cast.as_("secretariat"))
    assert said(refused) == "The text is published already."
    assert Output.objects.filter(title=statement.title).count() == 1


def test_adopted_minutes_become_the_meetings_minutes_document(cast, clock):
    meeting = principals_meeting(cast)
    minutes = new_text(
        cast,
        "Minutes of the Principals' meeting, March 2018",
        kind="minutes",
        meeting=meeting,
        draft="The Principals met.\n\nThey agreed on the work plan.",
    )
    adopted(cast, clock, minutes)
    document = services.publish(minutes, **cast.as_("secretariat"))
    assert isinstance(document, Document)
    document.refresh_from_db()
    assert document.kind == Document.Kind.MINUTES and document.meeting == meeting
    assert document.title == "Minutes of the Principals' meeting, March 2018"
    assert document.text == "The Principals met.\n\nThey agreed on the work plan."
    assert document.visibility == meeting.visibility
    assert not Output.objects.filter(title=document.title).exists()
    with pytest.raises(ValidationError) as refused:
        services.publish(minutes, **cast.as_("secretariat"))
    assert said(refused) == "The text is published already."
    assert Document.objects.filter(meeting=meeting, kind="minutes").count() == 1


# -- withdrawal --------------------------------------------------------------------------------


def test_the_leads_withdraw_a_text_with_a_reason(cast, statement):
    with pytest.raises(ValidationError) as refused:
        services.withdraw(statement, **cast.as_("IOM"), reason=" ")
    assert said(refused) == "Say why the text is withdrawn."
    with pytest.raises(PermissionDenied):
        services.withdraw(statement, **cast.as_("FAO"), reason="Not ours")
    services.withdraw(statement, **cast.as_("IOM"), reason="Overtaken by events")
    statement.refresh_from_db()
    assert (statement.status, statement.status_note) == (Status.WITHDRAWN, "Overtaken by events")
    with pytest.raises(ValidationError) as refused:
        open_round(cast, statement)
    assert said(refused) == "The text is withdrawn: a round cannot open now."
    with pytest.raises(ValidationError) as refused:
        services.withdraw(statement, **cast.as_("IOM"), reason="Again")
    assert said(refused) == "The text is withdrawn: it cannot be withdrawn."


def test_a_text_in_clearance_or_adopted_is_not_withdrawn(cast, clock, statement):
    round_ = open_round(cast, statement)
    with pytest.raises(ValidationError) as refused:
        services.withdraw(statement, **cast.as_("IOM"), reason="Cold feet")
    assert said(refused) == "The text is in clearance: it cannot be withdrawn."
    closed(clock, round_)
    with pytest.raises(ValidationError) as refused:
        services.withdraw(statement, **cast.as_("IOM"), reason="Cold feet")
    assert said(refused) == "The text is adopted: it cannot be withdrawn."


def test_a_text_is_withdrawn_after_silence_broke(cast, clock, statement):
    round_ = broken_round(cast, clock, statement)
    services.withdraw(statement, **cast.as_("IOM"), reason="No consensus in sight")
    assert status(statement) == Status.WITHDRAWN
    with pytest.raises(ValidationError) as refused:
        services.choose_next_step(round_, **cast.as_("IOM"), step="referred")
    assert said(refused) == "The text is withdrawn: no way on to choose now."


# -- the comparison of two versions ------------------------------------------------------------


def test_the_diff_shows_same_changed_removed_and_added_paragraphs():
    old = [A, B, C]
    new = [A, "Migrants' human rights must be protected at all times.", "Closing words."]
    rows = paragraphs.compare(old, new)
    assert [(r.change, r.old_number, r.new_number) for r in rows] == [
        ("same", 1, 1),
        ("changed", 2, 2),
        ("removed", 3, None),
        ("added", None, 3),
    ]
    changed = rows[1]
    assert "<del>regardless of status.</del>" in changed.inline
    assert "<ins>at all times.</ins>" in changed.inline
    assert rows[2].inline == f"<del>{C}</del>" and rows[3].inline == "<ins>Closing words.</ins>"
    assert [(r.change, r.old_number, r.new_number) for r in paragraphs.compare(old, old)] == [
        ("same", 1, 1),
        ("same", 2, 2),
        ("same", 3, 3),
    ]


def test_the_diff_escapes_html_in_every_row():
    script = "<script>alert('x')</script>"
    old = [f"Hello {script} world", "Kept <b>bold</b> & more", "Gone <img src=x onerror=y>"]
    new = [f"Hello {script} wide world", "Kept <b>bold</b> & more", "New <iframe></iframe>"]
    rows = paragraphs.compare(old, new)
    assert [r.change for r in rows] == ["changed", "same", "removed", "added"]
    html = "".join(r.inline for r in rows)
    for raw in ("<script>", "</script>", "<b>", "<img", "<iframe>"):
        assert raw not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rows[0].inline
    assert rows[1].inline == "Kept &lt;b&gt;bold&lt;/b&gt; &amp; more"
    assert rows[2].inline == "<del>Gone &lt;img src=x onerror=y&gt;</del>"
    assert rows[3].inline == "<ins>New &lt;iframe&gt;&lt;/iframe&gt;</ins>"
    # The raw paragraphs are kept as they are, for the plain-text views.
    assert rows[0].old == old[0] and rows[0].new == new[0]
