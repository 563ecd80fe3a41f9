"""Recording writes in the audit log; every service calls ``audit``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gmg.accounts.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who performs a write: a signed-in user, or a labelled system actor such as the CLI."""

    label: str
    user_id: int | None = None

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(label=label)


def audit(
    *,
    by: Actor,
    action: str,
    object_type: str = "",
    object_key: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor_id=by.user_id,
        actor_label=by.label,
        action=action,
        object_type=object_type,
        object_key=object_key,
        before=before,
        after=after,
    )
