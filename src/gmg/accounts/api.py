"""API: who I am, people and roles, invitations, and the audit log (secretariat)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from gmg.accounts import services
from gmg.accounts.models import AuditEntry, Person, RoleAssignment
from gmg.api.auth import SIGNED_IN, actor_for, write_auth
from gmg.api.schemas import ErrorOut
from gmg.api.writes import WRITE_RESPONSES, WriteRejected, run
from gmg.core.viewer import Viewer
from gmg.registry.models import Body, Entity
from gmg.workgroups.models import WorkingGroup

router = Router(tags=["accounts"])


class RoleIO(Schema):
    role: RoleAssignment.Role
    working_group: str | None = None


class MeOut(Schema):
    signed_in: bool
    email: str | None
    name: str | None
    entity: str | None
    secretariat: bool
    roles: list[RoleIO]
    member_of: list[str] = Field(description="Bodies the person's entity belongs to (record)")
    chair_of: list[str] = Field(description="Bodies whose chair term in force the entity holds")
    working_groups: list[str]
    co_chair_of: list[str]
    token_scopes: list[str] | None = Field(None, description="When called with a token")


@router.get("/me", response=MeOut, operation_id="get_me")
def me(request: HttpRequest) -> MeOut:
    """Who the API takes you for, and the rights that follow (stored and derived roles)."""
    viewer = Viewer.from_request(request)
    token: Any = getattr(request, "auth", None)
    scopes: list[str] | None = getattr(token, "scopes", None)
    if viewer.user_id is None:
        return MeOut(
            signed_in=False,
            email=None,
            name=None,
            entity=None,
            secretariat=False,
            roles=[],
            member_of=[],
            chair_of=[],
            working_groups=[],
            co_chair_of=[],
            token_scopes=None,
        )
    person = Person.objects.select_related("entity", "user").filter(user_id=viewer.user_id).first()
    keys = lambda model, ids: sorted(model.objects.filter(pk__in=ids).values_list("key", flat=True))  # noqa: E731
    return MeOut(
        signed_in=True,
        email=person.user.get_username() if person else None,
        name=person.name if person else None,
        entity=person.entity.acronym if person and person.entity else None,
        secretariat=viewer.is_secretariat,
        roles=[
            RoleIO(
                role=RoleAssignment.Role(r.role),
                working_group=r.working_group.key if r.working_group else None,
            )
            for r in RoleAssignment.objects.filter(person=person).select_related("working_group")
        ]
        if person
        else [],
        member_of=keys(Body, viewer.body_ids),
        chair_of=keys(Body, viewer.chairs_body_ids),
        working_groups=keys(WorkingGroup, viewer.working_group_ids),
        co_chair_of=keys(WorkingGroup, viewer.co_chairs_group_ids),
        token_scopes=scopes,
    )


def _secretariat(request: HttpRequest) -> None:
    if not Viewer.from_request(request).is_secretariat:
        raise HttpError(403, "This is for the secretariat (signed in with two factors).")


class PersonOut(Schema):
    email: str
    name: str
    entity: str | None
    active: bool
    roles: list[RoleIO]


def person_out(p: Person) -> PersonOut:
    return PersonOut(
        email=p.user.get_username(),
        name=p.name,
        entity=p.entity.acronym if p.entity else None,
        active=p.user.is_active,
        roles=[
            RoleIO(
                role=RoleAssignment.Role(r.role),
                working_group=r.working_group.key if r.working_group else None,
            )
            for r in p.roles.all()
        ],
    )


def _people():
    return Person.objects.select_related("user", "entity").prefetch_related(
        Prefetch("roles", queryset=RoleAssignment.objects.select_related("working_group"))
    )


class PersonList(Schema):
    items: list[PersonOut]
    count: int


@router.get(
    "/people",
    response={200: PersonList, 401: ErrorOut, 403: ErrorOut},
    operation_id="list_people",
    auth=SIGNED_IN,
)
def list_people(request: HttpRequest) -> PersonList:
    """Everyone with an account, with their roles (secretariat)."""
    _secretariat(request)
    items = [person_out(p) for p in _people()]
    return PersonList(items=items, count=len(items))


class RolesIn(Schema):
    entity: str | None = Field(None, description="The person's entity (acronym); null for none")
    roles: list[RoleIO]


@router.put(
    "/people/{email}/roles",
    response={200: PersonOut, **WRITE_RESPONSES},
    auth=write_auth("write:accounts"),
    operation_id="set_roles",
)
def set_roles(request: HttpRequest, email: str, data: RolesIn):
    """Set a person's entity and stored roles, replacing the old ones (secretariat)."""
    _secretariat(request)
    person = _people().filter(user__username__iexact=email).first()
    if person is None:
        raise HttpError(404, f"No person {email!r}.")
    if data.entity:
        entity = Entity.objects.filter(acronym=data.entity).first()
        if entity is None:
            raise WriteRejected(ValidationError({"entity": f"unknown entity {data.entity!r}"}))
        person.entity = entity
    else:
        person.entity = None
    specs = [services.RoleSpec(r.role, r.working_group) for r in data.roles]
    run(lambda: services.set_roles(person, specs, by=actor_for(request)))
    return person_out(_people().get(pk=person.pk))


class InvitationIn(Schema):
    email: str = Field(..., max_length=254)
    name: str = Field(..., min_length=1, max_length=200)
    entity: str | None = None
    roles: list[RoleIO] = []


class InvitationOut(Schema):
    email: str
    expires_at: dt.datetime
    link: str = Field(description="Also sent by mail; shown once")


@router.post(
    "/invitations",
    response={201: InvitationOut, **WRITE_RESPONSES},
    auth=write_auth("write:accounts"),
    operation_id="create_invitation",
)
def create_invitation(request: HttpRequest, data: InvitationIn):
    """Invite someone to the members' area; a mail with a one-time link goes out (secretariat)."""
    from django.core.validators import validate_email

    _secretariat(request)
    try:
        validate_email(data.email)
    except ValidationError as exc:
        raise WriteRejected(ValidationError({"email": exc.messages})) from exc
    entity = None
    if data.entity:
        entity = Entity.objects.filter(acronym=data.entity).first()
        if entity is None:
            raise WriteRejected(ValidationError({"entity": f"unknown entity {data.entity!r}"}))
    invitation, link = run(
        lambda: services.invite(
            email=data.email,
            name=data.name,
            entity_id=entity.pk if entity else None,
            roles=[services.RoleSpec(r.role, r.working_group) for r in data.roles],
            by=actor_for(request),
        )
    )
    return Status(
        201, InvitationOut(email=invitation.email, expires_at=invitation.expires_at, link=link)
    )


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_key: str
    before: Any = None
    after: Any = None


class AuditList(Schema):
    items: list[AuditOut]
    count: int


class AuditQuery(Schema):
    q: str = Field("", max_length=200, description="In the action, record, or actor")
    action: str | None = None
    object_type: str | None = None
    object_key: str | None = None
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=100_000_000)


@router.get(
    "/audit",
    response={200: AuditList, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="list_audit_entries",
    auth=SIGNED_IN,
)
def audit_log(request: HttpRequest, query: Query[AuditQuery]) -> AuditList:
    """The audit log, newest first (secretariat). Append-only: there is no write endpoint."""
    _secretariat(request)
    found = AuditEntry.objects.all()
    if query.q.strip():
        q = query.q.strip()
        found = found.filter(
            Q(action__icontains=q) | Q(object_key__icontains=q) | Q(actor_label__icontains=q)
        )
    for name in ("action", "object_type", "object_key"):
        value = getattr(query, name)
        if value:
            found = found.filter(**{name: value})
    if query.date_from:
        found = found.filter(at__date__gte=query.date_from)
    if query.date_to:
        found = found.filter(at__date__lte=query.date_to)
    count = found.count()
    items = [
        AuditOut(
            id=e.pk,
            at=e.at,
            actor=e.actor_label,
            action=e.action,
            object_type=e.object_type,
            object_key=e.object_key,
            before=e.before,
            after=e.after,
        )
        for e in found[query.offset : query.offset + query.limit]
    ]
    return AuditList(items=items, count=count)


class MailPreference(Schema):
    digest: bool = Field(
        description="true: one daily digest of clearance mail; false: each mail as it happens"
    )


@router.put(
    "/me/mail-preference",
    response={200: MailPreference, **WRITE_RESPONSES},
    auth=write_auth("write:clearance"),
    operation_id="set_mail_preference",
)
def set_mail_preference(request: HttpRequest, data: MailPreference) -> MailPreference:
    """Choose single clearance mails or one daily digest (your own preference)."""
    actor = actor_for(request)
    person = Person.objects.filter(user_id=actor.user_id or 0).first()
    if person is None:
        raise HttpError(404, "Your account has no profile to keep a preference in.")
    saved = run(lambda: services.set_mail_preference(person, digest=data.digest, by=actor))
    return MailPreference(digest=saved.email_digest)
