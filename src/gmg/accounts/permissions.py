"""What a viewer may do (reading is ``gmg.core.visibility``'s business). One place, used by
pages, the API and the back office alike."""

from __future__ import annotations

from gmg.core.viewer import Viewer
from gmg.core.visibility import Visibility


class PermissionDenied(Exception):
    """The viewer may not do this; the message says why (shown to them)."""


def can_keep_record(viewer: Viewer) -> bool:
    """Edit bodies, entities, memberships, chair terms, working groups, outputs, people."""
    return viewer.is_secretariat


def share_problem(
    viewer: Viewer, visibility: str, body_id: int | None, working_group_id: int | None
) -> str:
    """Why ``viewer`` may not share a document at this level, or "" when they may.

    Members share with what they belong to: their bodies, their working groups, named
    entities, or the secretariat alone. Publishing to everyone is the secretariat's job.
    """
    if viewer.is_secretariat:
        return ""
    if viewer.is_anonymous or not viewer.is_member:
        return "Only members can share documents."
    if visibility == Visibility.PUBLIC:
        return "Only the secretariat publishes documents to the public."
    if body_id not in viewer.body_ids and not (
        working_group_id is not None and working_group_id in viewer.working_group_ids
    ):
        return "You can only share documents in a body your entity is a member of."
    if visibility == Visibility.WORKING_GROUP and working_group_id not in viewer.working_group_ids:
        return "You can only share with a working group you belong to."
    return ""


def can_edit_document(viewer: Viewer, uploaded_by_id: int | None) -> bool:
    return viewer.is_secretariat or (
        viewer.user_id is not None and viewer.user_id == uploaded_by_id
    )


def can_manage_meeting(viewer: Viewer, body_id: int, working_group_id: int | None) -> bool:
    """The secretariat, the chair of the body in force, or the group's co-chairs."""
    if viewer.is_secretariat:
        return True
    if working_group_id is not None:
        return working_group_id in viewer.co_chairs_group_ids
    return body_id in viewer.chairs_body_ids


# -- joint texts and their clearance -------------------------------------------------------------


def answers_for(viewer: Viewer) -> frozenset[int]:
    """The entities ``viewer`` answers for in clearance: as their Principal or focal point."""
    return viewer.principal_of | viewer.focal_point_of


def can_start_text(viewer: Viewer, body_id: int, working_group_id: int | None) -> bool:
    """The secretariat, or a Principal or focal point of a member of the body (or group)."""
    if viewer.is_secretariat:
        return True
    if not answers_for(viewer):
        return False
    if working_group_id is not None:
        return working_group_id in viewer.working_group_ids
    return body_id in viewer.body_ids


def can_lead_text(viewer: Viewer, lead_entity_ids: set[int] | frozenset[int]) -> bool:
    """Open rounds, choose the way on after a break, edit the text's details."""
    return viewer.is_secretariat or bool(answers_for(viewer) & lead_entity_ids)


def can_draft_text(
    viewer: Viewer, lead_entity_ids: set[int] | frozenset[int], drafter_ids: set[int]
) -> bool:
    """Add versions and resolve comments: the drafters, the leads and the secretariat."""
    return can_lead_text(viewer, lead_entity_ids) or (
        viewer.user_id is not None and viewer.user_id in drafter_ids
    )


def can_comment(viewer: Viewer) -> bool:
    """Anyone who acts for a member entity (and sees the text), and the secretariat."""
    return viewer.is_secretariat or bool(viewer.entity_ids)


def can_answer_for(viewer: Viewer, entity_id: int) -> bool:
    """An entity's Principal or focal point; the secretariat records answers given to it
    by other means (marked as recorded on the entity's behalf)."""
    return viewer.is_secretariat or entity_id in answers_for(viewer)
