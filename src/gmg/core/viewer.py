"""Who is asking. Every read that depends on the viewer takes one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Viewer:
    """The person reading. ``anonymous`` is the public; the record's staff see everything."""

    user_id: int | None = None
    is_staff: bool = False

    @classmethod
    def from_request(cls, request: Any) -> Viewer:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ANONYMOUS
        return cls(user_id=user.pk, is_staff=bool(user.is_staff))


ANONYMOUS = Viewer()
