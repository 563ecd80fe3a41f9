"""What a viewer may see. Decided here and nowhere else.

Every piece of content (outputs, documents and notes, meetings) carries a visibility level
and the audience fields the level refers to (``RestrictedContent``):

- ``public``: everyone;
- ``body``: people whose entity is a member of the content's body;
- ``working_group``: members of the content's working group;
- ``entities``: people of the named entities;
- ``secretariat``: the secretariat only.

The secretariat sees everything. Three forms of the one rule serve the three kinds of
reader, and a test checks they agree on every row:

- ``visible_q(viewer, model)`` / ``filter_visible(queryset, viewer)``: for the ORM (pages,
  the API, the database search engines);
- ``can_see(viewer, obj)``: for one loaded object (downloads, detail pages);
- ``viewer_tokens`` / ``content_tokens``: for indexes outside the database (tantivy).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from gmg.core.viewer import Viewer


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    BODY = "body", "Members of the body"
    WORKING_GROUP = "working_group", "Members of the working group"
    ENTITIES = "entities", "Named entities only"
    SECRETARIAT = "secretariat", "Secretariat only"


# Names older bundles used, still accepted on load.
LEGACY_VISIBILITY = {"members": Visibility.BODY, "draft": Visibility.SECRETARIAT}


class RestrictedContent(models.Model):
    """The visibility fields every piece of content has. Subclasses define ``body`` and
    ``working_group`` foreign keys (the audience of ``body`` and ``working_group`` levels)."""

    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC, db_index=True
    )
    audience_entities = models.ManyToManyField(
        "registry.Entity",
        blank=True,
        related_name="+",
        help_text="Who may see it when the visibility is 'Named entities only'.",
    )

    class Meta:
        abstract = True

    def clean_audience(self, entity_ids: Iterable[int] | None = None) -> None:
        """The level's audience must be stated: a group for ``working_group``, entities for
        ``entities``. ``entity_ids`` are the named entities about to be saved."""
        group_id = getattr(self, "working_group_id", None)
        if self.visibility == Visibility.WORKING_GROUP and group_id is None:
            raise ValidationError(
                {"visibility": "Visible to a working group: choose the working group."}
            )
        if self.visibility == Visibility.ENTITIES and entity_ids is not None and not entity_ids:
            raise ValidationError(
                {"visibility": "Visible to named entities: name at least one entity."}
            )


def visible_q(viewer: Viewer, model: type[RestrictedContent]) -> Q:
    """A filter keeping the rows of ``model`` that ``viewer`` may see (each row once)."""
    if viewer.sees_all:
        return Q()
    allowed = Q(visibility=Visibility.PUBLIC)
    if viewer.body_ids:
        allowed |= Q(visibility=Visibility.BODY, body_id__in=viewer.body_ids)
    if viewer.working_group_ids:
        allowed |= Q(
            visibility=Visibility.WORKING_GROUP, working_group_id__in=viewer.working_group_ids
        )
    if viewer.entity_ids:
        # A subquery, not a join: a row named for two of the viewer's entities stays one row.
        named = model._default_manager.filter(audience_entities__in=viewer.entity_ids).values("pk")
        allowed |= Q(visibility=Visibility.ENTITIES, pk__in=named)
    return allowed


def filter_visible(queryset: models.QuerySet, viewer: Viewer) -> models.QuerySet:
    """``queryset`` narrowed to what ``viewer`` may see."""
    if viewer.sees_all:
        return queryset
    return queryset.filter(visible_q(viewer, queryset.model))


def can_see(viewer: Viewer, obj: RestrictedContent) -> bool:
    """Whether ``viewer`` may see ``obj`` (its audience entities are read when needed)."""
    if viewer.sees_all or obj.visibility == Visibility.PUBLIC:
        return True
    if obj.visibility == Visibility.BODY:
        return getattr(obj, "body_id", None) in viewer.body_ids
    if obj.visibility == Visibility.WORKING_GROUP:
        return getattr(obj, "working_group_id", None) in viewer.working_group_ids
    if obj.visibility == Visibility.ENTITIES:
        if not viewer.entity_ids:
            return False
        return any(e.pk in viewer.entity_ids for e in obj.audience_entities.all())
    return False


def visible_among(viewer: Viewer, objs: Iterable[RestrictedContent]) -> list:
    """Those of ``objs`` (loaded rows of one model) ``viewer`` may see, in order. Rows named
    for entities are settled in one query for all of them, not one per row."""
    objs = list(objs)
    named = [o.pk for o in objs if o.visibility == Visibility.ENTITIES]
    allowed: set = set()
    if named and viewer.entity_ids and not viewer.sees_all:
        model = type(objs[0])
        allowed = set(
            model._default_manager.filter(
                pk__in=named, audience_entities__in=viewer.entity_ids
            ).values_list("pk", flat=True)
        )
    return [
        o
        for o in objs
        if (
            o.pk in allowed
            if o.visibility == Visibility.ENTITIES and not viewer.sees_all
            else can_see(viewer, o)
        )
    ]


# -- tokens, for indexes kept outside the database -------------------------------------------

PUBLIC_TOKEN = "public"  # noqa: S105 - audience tokens, not secrets
RESTRICTED_TOKEN = "restricted"  # noqa: S105


def content_tokens(
    visibility: str, body_id: int | None, working_group_id: int | None, entity_ids: Iterable[int]
) -> list[str]:
    """The audience tokens an index stores for one piece of content."""
    if visibility == Visibility.PUBLIC:
        return [PUBLIC_TOKEN]
    tokens = [RESTRICTED_TOKEN]
    if visibility == Visibility.BODY and body_id is not None:
        tokens.append(f"body:{body_id}")
    elif visibility == Visibility.WORKING_GROUP and working_group_id is not None:
        tokens.append(f"wg:{working_group_id}")
    elif visibility == Visibility.ENTITIES:
        tokens.extend(f"entity:{pk}" for pk in sorted(set(entity_ids)))
    return tokens  # secretariat: restricted and nothing else, so only sees_all reaches it


def viewer_tokens(viewer: Viewer) -> frozenset[str] | None:
    """The tokens ``viewer`` holds; ``None`` means everything is visible.

    Content is visible when it is not restricted, or shares a token with the viewer.
    """
    if viewer.sees_all:
        return None
    return frozenset(
        [PUBLIC_TOKEN]
        + [f"body:{pk}" for pk in viewer.body_ids]
        + [f"wg:{pk}" for pk in viewer.working_group_ids]
        + [f"entity:{pk}" for pk in viewer.entity_ids]
    )
