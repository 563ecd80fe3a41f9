"""Writes to meeting pages, shared by the members' area form and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gmg.accounts.permissions import PermissionDenied, can_manage_meeting
from gmg.accounts.services import Actor
from gmg.core.services import save_record
from gmg.core.viewer import Viewer
from gmg.governance.models import AgendaItem, Decision, Meeting, Participant
from gmg.registry.models import Entity


@dataclass(frozen=True)
class Attendance:
    entity: Entity
    represented_by: str = ""
    attended: bool = True


def save_meeting(
    meeting: Meeting,
    *,
    viewer: Viewer,
    by: Actor,
    audience_entities: Iterable[Entity] | None = None,
    agenda: Iterable[str] | None = None,
    participants: Iterable[Attendance] | None = None,
    decisions: Iterable[str] | None = None,
) -> Meeting:
    """Create or update a meeting page; ``None`` leaves that part as it is.

    Kept by the secretariat, the chair in office (the body's meetings) or the working
    group's co-chairs (its own). Checked again for an existing meeting's stored place, so a
    co-chair cannot move another group's meeting into their own.
    """
    places = [(meeting.body_id, meeting.working_group_id)]
    if meeting.pk is not None:
        stored = Meeting.objects.filter(pk=meeting.pk).values_list("body_id", "working_group_id")
        places += list(stored)
    if not all(can_manage_meeting(viewer, body, group) for body, group in places):
        raise PermissionDenied(
            "Meetings are kept by the secretariat, the chair in office or the group's co-chairs."
        )
    named = list(audience_entities) if audience_entities is not None else None
    items = [a.strip() for a in agenda if a.strip()] if agenda is not None else None
    texts = [d.strip() for d in decisions if d.strip()] if decisions is not None else None
    present = list(participants) if participants is not None else None

    def children(saved: Meeting) -> None:
        if named is not None:
            saved.audience_entities.set(named)
        saved.clean_audience(saved.audience_entities.values_list("pk", flat=True))
        # Items and decisions about joint texts belong to the clearance record: the page's
        # plain lines are replaced, those are kept.
        if items is not None:
            saved.agenda_items.filter(joint_text=None).delete()
            AgendaItem.objects.bulk_create(
                AgendaItem(meeting=saved, position=i, title=t[:300]) for i, t in enumerate(items)
            )
        if present is not None:
            saved.participants.all().delete()
            unique = {p.entity.pk: p for p in present}
            Participant.objects.bulk_create(
                Participant(
                    meeting=saved,
                    entity=p.entity,
                    represented_by=p.represented_by,
                    attended=p.attended,
                )
                for p in unique.values()
            )
        if texts is not None:
            saved.decisions.filter(joint_text=None).delete()
            Decision.objects.bulk_create(
                Decision(meeting=saved, position=i, text=t) for i, t in enumerate(texts)
            )

    return save_record(meeting, by=by, children=children)
