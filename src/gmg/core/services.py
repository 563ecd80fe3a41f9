"""The one path every single-record write takes: validate, save, audit, re-derive.

The back office (Django admin), the API and the CLI all call these, so a record is checked
the same way whichever door it comes through. Each write:

1. sets derived columns (``derive_dates()``) and validates (``full_clean``), reporting every
   problem as a ``ValidationError`` and writing nothing;
2. saves the record and its child rows (``children``) in one transaction;
3. writes one audit entry with who, when, what, and the record's state before and after;
4. refreshes what is derived from it (the search index for outputs).

Bulk loads of a whole bundle go through ``gmg.record.loader`` instead (one audit entry).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from gmg.accounts.services import Actor, audit

M = TypeVar("M", bound=models.Model)

# Child rows shown in a record's audit snapshot, per model label.
SNAPSHOT_CHILDREN: dict[str, tuple[str, ...]] = {
    "registry.body": ("organs",),
    "registry.entity": ("variant_names",),
    "governance.chairterm": ("chair_links",),
    "governance.meeting": ("agenda_items", "participants", "decisions"),
    "workgroups.workinggroup": ("co_chair_links", "variant_names"),
    "repository.output": ("entity_links", "dates", "title_variants", "links"),
    "accounts.person": ("roles",),
}


def natural_key(obj: models.Model | None) -> str:
    """How the record names ``obj``: its key, acronym or uid, else its id."""
    if obj is None:
        return ""
    for name in ("key", "acronym", "uid"):
        value = getattr(obj, name, None)
        if value:
            return str(value)
    user = getattr(obj, "user", None)
    if user is not None and hasattr(user, "get_username"):
        return user.get_username()
    return str(obj.pk)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return natural_key(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """A JSON-ready picture of ``obj``: its fields, many-to-many keys and child rows."""
    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in {"created_at", "updated_at", "token_hash", "password"}:
            continue
        value = getattr(obj, f.name) if f.is_relation else f.value_from_object(obj)
        data[f.name] = _plain(value)
    if obj.pk is not None:
        for m2m in obj._meta.many_to_many:
            data[m2m.name] = sorted(natural_key(o) for o in getattr(obj, m2m.name).all())
        for child in SNAPSHOT_CHILDREN.get(obj._meta.label_lower, ()):
            data[child] = [str(row) for row in getattr(obj, child).all()]
    return data


def validate(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Derive, then check everything Django and the model know; raise one ValidationError."""
    derive = getattr(obj, "derive_dates", None)
    if callable(derive):
        derive()
    obj.full_clean(exclude=list(exclude))


def _after_write(obj: models.Model) -> None:
    """Refresh what is derived from ``obj``: the search index holds outputs, and their
    entities', groups' and bodies' names."""
    from gmg.repository import search
    from gmg.repository.models import Output, OutputEntity

    label = obj._meta.label_lower
    keys: Iterable[str] = []
    if label == "repository.output":
        keys = [obj.key]  # type: ignore[attr-defined]
    elif label == "registry.entity":
        keys = OutputEntity.objects.filter(entity_id=obj.pk).values_list("output__key", flat=True)
    elif label == "workgroups.workinggroup":
        keys = Output.objects.filter(working_group_id=obj.pk).values_list("key", flat=True)
    keys = list(keys)
    if keys:
        search.reindex_outputs(keys)


def save_record(
    obj: M,
    *,
    by: Actor,
    children: Callable[[M], None] | None = None,
    exclude: Iterable[str] = (),
    action: str = "",
) -> M:
    """Create or update ``obj`` (and, through ``children``, its child rows), audited.

    ``children(obj)`` runs after ``obj`` is saved, inside the same transaction; it saves
    child rows (validating each with ``validate``). Raises ValidationError, writing nothing.
    """
    model = type(obj)
    label = model._meta.label_lower
    with transaction.atomic():
        before = None
        if obj.pk is not None:
            stored = model._default_manager.filter(pk=obj.pk).first()
            before = snapshot(stored) if stored is not None else None
        validate(obj, exclude=exclude)
        obj.save()
        if children is not None:
            children(obj)
        after = snapshot(obj)
        audit(
            by=by,
            action=action or f"{label}.{'update' if before is not None else 'create'}",
            object_type=label,
            object_key=natural_key(obj),
            before=before,
            after=after,
        )
        _after_write(obj)
    return obj


def delete_record(obj: models.Model, *, by: Actor) -> None:
    """Delete ``obj``, audited. Records others depend on are refused with a ValidationError
    naming what holds on to them, instead of deleting those too."""
    from gmg.repository import search

    label = obj._meta.label_lower
    before = snapshot(obj)
    key, pk = natural_key(obj), obj.pk
    try:
        with transaction.atomic():
            obj.delete()
            audit(by=by, action=f"{label}.delete", object_type=label, object_key=key, before=before)
    except models.ProtectedError as exc:
        held = sorted({f"{o._meta.verbose_name} {natural_key(o)}" for o in exc.protected_objects})
        raise ValidationError(
            f"{obj._meta.verbose_name} {key} is still referred to by: {', '.join(held[:10])}"
            + (f" and {len(held) - 10} more" if len(held) > 10 else "")
        ) from exc
    if label == "repository.output":
        search.remove_output(pk, key)
