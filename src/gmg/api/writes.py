"""Shared machinery of the write endpoints: permission, references by key, errors.

Endpoints build a model instance from the request and hand it to the same service the back
office uses; a ``ValidationError`` from the service becomes a 422 naming each field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from ninja.errors import HttpError
from pydantic import BaseModel

from gmg.accounts.permissions import PermissionDenied, can_keep_record
from gmg.api.schemas import ErrorOut
from gmg.core.viewer import Viewer

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")

# Every write operation declares these responses (the OpenAPI document lists them).
WRITE_ERRORS = (400, 401, 403, 404, 422)
WRITE_RESPONSES: dict[int, Any] = {code: ErrorOut for code in WRITE_ERRORS}


class WriteRejected(Exception):
    """A ValidationError from a service, carried to the API's error handler."""

    def __init__(self, error: ValidationError):
        self.error = error
        super().__init__(str(error))


def require_record_keeper(request: HttpRequest) -> Viewer:
    viewer = Viewer.from_request(request)
    if not can_keep_record(viewer):
        raise HttpError(403, "Only the secretariat (signed in with two factors) edits the record.")
    return viewer


def lookup(model: type[M], what: str, **where: Any) -> M:
    found = model._default_manager.filter(**where).first()
    if found is None:
        shown = ", ".join(f"{v}" for v in where.values())
        raise HttpError(404, f"No {what} {shown!r}.")
    return found


def reference(
    model: type[M], what: str, field: str, value: Any, *, required: bool = False, **where: Any
) -> M | None:
    """A record named in the request body; an unknown name is a 422 on that field."""
    if value in (None, ""):
        if required:
            raise WriteRejected(ValidationError({field: f"a {what} is required"}))
        return None
    found = model._default_manager.filter(**where).first()
    if found is None:
        raise WriteRejected(ValidationError({field: f"unknown {what} {value!r}"}))
    return found


def apply(obj: M, data: BaseModel, *, fields: tuple[str, ...], partial: bool) -> M:
    """Copy plain fields from the request body onto ``obj`` (only those sent, for PATCH)."""
    sent = data.model_dump(exclude_unset=partial)
    for name in fields:
        if name in sent:
            value = sent[name]
            setattr(obj, name, "" if value is None and _is_text(obj, name) else value)
    return obj


def _is_text(obj: models.Model, name: str) -> bool:
    return isinstance(obj._meta.get_field(name), models.CharField | models.TextField)


def run(write: Callable[[], T]) -> T:
    """Run a service call, turning its refusals into API errors."""
    try:
        return write()
    except ValidationError as exc:
        raise WriteRejected(exc) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc


def sent(data: BaseModel, name: str) -> bool:
    return name in data.model_fields_set


def patch_schema(schema: type[BaseModel], name: str) -> type[BaseModel]:
    """The PATCH body of ``schema``: every field optional; only the fields sent change."""
    from pydantic import create_model

    fields: dict[str, Any] = {
        field_name: (info.annotation | None, None)  # type: ignore[operator]
        for field_name, info in schema.model_fields.items()
    }
    return create_model(name, __base__=schema.__base__, **fields)


def entities_named(field: str, acronyms: list[str]) -> list:
    """The entities named by acronym in a request body, in order; unknown ones are a 422."""
    from gmg.registry.models import Entity

    found = {e.acronym: e for e in Entity.objects.filter(acronym__in=acronyms)}
    unknown = [a for a in acronyms if a not in found]
    if unknown:
        raise WriteRejected(ValidationError({field: f"unknown entities: {', '.join(unknown)}"}))
    return [found[a] for a in dict.fromkeys(acronyms)]


def delete_keyed(request: HttpRequest, model: type[models.Model], what: str, **where: Any):
    """The record delete endpoints: secretariat only, 404 when unknown, refusals as 422."""
    from ninja import Status

    from gmg.api.auth import actor_for
    from gmg.core.services import delete_record

    require_record_keeper(request)
    found = lookup(model, what, **where)
    run(lambda: delete_record(found, by=actor_for(request)))
    return Status(204, None)
