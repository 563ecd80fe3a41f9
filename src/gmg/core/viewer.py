"""Who is asking. Every read that depends on the viewer takes one of these.

A viewer is computed once per request (``gmg.accounts.roles.viewer_for``) from the person's
roles and from the record (memberships in force, chair terms in force, working-group
co-chairs), and is then only read: ``gmg.core.visibility`` decides what it may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Viewer:
    """The person reading. ``ANONYMOUS`` is the public; the secretariat sees everything."""

    user_id: int | None = None
    is_secretariat: bool = False
    # The viewer's own entity (agency), if any.
    entity_ids: frozenset[int] = field(default_factory=frozenset)
    # Bodies the viewer's entity is a member of (in force; see accounts.roles).
    body_ids: frozenset[int] = field(default_factory=frozenset)
    # Working groups the viewer belongs to, by assignment or as their entity co-chairs them.
    working_group_ids: frozenset[int] = field(default_factory=frozenset)
    # Roles that grant rights beyond reading (see gmg.accounts.roles).
    principal_of: frozenset[int] = field(default_factory=frozenset)
    focal_point_of: frozenset[int] = field(default_factory=frozenset)
    chairs_body_ids: frozenset[int] = field(default_factory=frozenset)
    co_chairs_group_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def sees_all(self) -> bool:
        return self.is_secretariat

    @property
    def is_member(self) -> bool:
        """Signed in and belonging to at least one body or working group (or secretariat)."""
        return self.is_secretariat or bool(self.body_ids or self.working_group_ids)

    @classmethod
    def from_request(cls, request: Any) -> Viewer:
        """The request's viewer, computed once per request (API tokens set it themselves)."""
        cached = getattr(request, "_gmg_viewer", None)
        if cached is not None:
            return cached
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            viewer = ANONYMOUS
        else:
            from gmg.accounts.roles import viewer_for

            viewer = viewer_for(user, verified=two_factor_passed(user))
        try:
            request._gmg_viewer = viewer
        except AttributeError:  # pragma: no cover - exotic request objects
            pass
        return viewer


def two_factor_passed(user: Any) -> bool:
    """Whether the session passed two-factor sign-in (django-otp sets ``is_verified``)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


ANONYMOUS = Viewer()
