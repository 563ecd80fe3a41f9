"""Writes about people: invitations, roles, API tokens; and ``audit``, which every service
calls to record a write."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from gmg.accounts.models import ApiToken, AuditEntry, Invitation, Person, RoleAssignment


@dataclass(frozen=True)
class Actor:
    """Who performs a write: a signed-in user, or a labelled system actor such as the CLI."""

    label: str
    user_id: int | None = None

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(label=label)

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(label=user.get_username(), user_id=user.pk)


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


def token_hash(secret: str) -> str:
    """Tokens and invitation links are random (256 bits), so a plain SHA-256 is enough to
    keep a stolen database from revealing them; no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


# -- roles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleSpec:
    role: str
    working_group_key: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"role": self.role, "working_group": self.working_group_key}


def _role_rows(person: Person, roles: list[RoleSpec]) -> list[RoleAssignment]:
    from gmg.workgroups.models import WorkingGroup

    rows, problems = [], []
    for spec in roles:
        if spec.role not in RoleAssignment.Role.values:
            problems.append(f"unknown role {spec.role!r}")
            continue
        group = None
        if spec.role == RoleAssignment.Role.WORKING_GROUP_MEMBER:
            group = WorkingGroup.objects.filter(key=spec.working_group_key or "").first()
            if group is None:
                problems.append(f"unknown working group {spec.working_group_key!r}")
                continue
        elif spec.working_group_key:
            problems.append(f"the role {spec.role!r} is not for a working group")
            continue
        if (
            spec.role in (RoleAssignment.Role.PRINCIPAL, RoleAssignment.Role.FOCAL_POINT)
            and person.entity_id is None
        ):
            problems.append(f"the role {spec.role!r} needs the person's entity")
            continue
        rows.append(RoleAssignment(person=person, role=spec.role, working_group=group))
    if problems:
        raise ValidationError({"roles": problems})
    return rows


def set_roles(person: Person, roles: list[RoleSpec], *, by: Actor) -> Person:
    """Replace ``person``'s stored roles, audited. Secretariat members get the back office
    (Django's ``is_staff``), which follows the role and is never set by hand."""
    from gmg.core.services import save_record

    def children(saved: Person) -> None:
        saved.roles.all().delete()
        unique = {(r.role, r.working_group_key): r for r in roles}
        RoleAssignment.objects.bulk_create(_role_rows(saved, list(unique.values())))
        sync_back_office_access(saved)

    return save_record(person, by=by, children=children, action="accounts.person.roles")


def sync_back_office_access(person: Person) -> None:
    """Django's ``is_staff`` follows the secretariat role; it is never set by hand."""
    is_secretariat = person.roles.filter(role=RoleAssignment.Role.SECRETARIAT).exists()
    if person.user.is_staff != is_secretariat:
        person.user.is_staff = is_secretariat
        person.user.save(update_fields=["is_staff"])


def set_active(person: Person, active: bool, *, by: Actor) -> None:
    """Deactivate (or reactivate) a person: sign-in, sessions and tokens stop working at
    once. People are never deleted, so the audit log keeps naming them."""
    from django.contrib.sessions.models import Session

    user = person.user
    if user.is_active == active:
        return
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            # End their sessions now rather than at the next request's check.
            for session in Session.objects.all().iterator():
                if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
                    session.delete()
        audit(
            by=by,
            action="accounts.person.activate" if active else "accounts.person.deactivate",
            object_type="accounts.person",
            object_key=user.get_username(),
            before={"active": not active},
            after={"active": active},
        )


# -- invitations -------------------------------------------------------------------------------


def invite(
    *,
    email: str,
    name: str,
    entity_id: int | None,
    roles: list[RoleSpec],
    by: Actor,
    send: bool = True,
) -> tuple[Invitation, str]:
    """Invite someone; returns the invitation and the link (sent by mail when ``send``)."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(username__iexact=email).exists():
        raise ValidationError({"email": "Someone with this email already has an account."})
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        name=name.strip(),
        entity_id=entity_id,
        roles=[r.as_json() for r in roles],
        token_hash=token_hash(secret),
        invited_by_id=by.user_id,
        expires_at=timezone.now() + dt.timedelta(days=settings.GMG_INVITATION_DAYS),
    )
    invitation.full_clean(exclude=["invited_by"])
    # Roles are checked now, against a person who does not exist yet.
    _role_rows(Person(entity_id=entity_id), roles)
    link = f"{settings.GMG_BASE_URL}/accounts/invitation/{secret}/"
    with transaction.atomic():
        invitation.save()
        audit(
            by=by,
            action="accounts.invitation.create",
            object_type="accounts.invitation",
            object_key=email,
            after={
                "email": email,
                "name": invitation.name,
                "entity_id": entity_id,
                "roles": invitation.roles,
                "expires_at": invitation.expires_at.isoformat(),
            },
        )
    if send:
        context = {"invitation": invitation, "link": link, "site_name": settings.OTP_TOTP_ISSUER}
        send_mail(
            subject=f"Your invitation to the {settings.OTP_TOTP_ISSUER} members' area",
            message=render_to_string("accounts/mail/invitation.txt", context),
            from_email=None,
            recipient_list=[email],
        )
    return invitation, link


ACCOUNT_EXISTS = "An account with this email exists already. Sign in, or reset your password."


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked or expired; the message says which."""


def find_invitation(secret: str) -> Invitation:
    invitation = Invitation.objects.filter(token_hash=token_hash(secret)).first()
    if invitation is None:
        raise InvitationInvalid(
            "This invitation link is not valid. Check that it was copied whole."
        )
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used. Sign in instead.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was withdrawn by the secretariat.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(
            "This invitation has expired. Ask the secretariat to send you a new one."
        )
    if get_user_model().objects.filter(username__iexact=invitation.email).exists():
        raise InvitationInvalid(ACCOUNT_EXISTS)
    return invitation


def accept_invitation(secret: str, password: str) -> Any:
    """Create the account an invitation names, with its roles; returns the new user."""
    User = get_user_model()
    with transaction.atomic():
        invitation = find_invitation(secret)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationInvalid("This invitation has already been used. Sign in instead.")
        if User.objects.filter(username__iexact=invitation.email).exists():
            # Another invitation to the same address was accepted first.
            raise InvitationInvalid(ACCOUNT_EXISTS)
        user = User(username=invitation.email, email=invitation.email)
        password_validation.validate_password(password, user)
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # the other invitation won a race
            raise InvitationInvalid(ACCOUNT_EXISTS) from exc
        person = Person.objects.create(
            user=user, name=invitation.name, entity_id=invitation.entity_id
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        by = Actor.for_user(user)
        audit(
            by=by,
            action="accounts.invitation.accept",
            object_type="accounts.invitation",
            object_key=invitation.email,
        )
        set_roles(
            person,
            [RoleSpec(r["role"], r.get("working_group")) for r in invitation.roles],
            by=by,
        )
    return user


def revoke_invitation(invitation: Invitation, *, by: Actor) -> None:
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit(
            by=by,
            action="accounts.invitation.revoke",
            object_type="accounts.invitation",
            object_key=invitation.email,
        )


# -- API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "gmg_"  # noqa: S105 - a marker, not a secret


def create_token(
    user: Any,
    *,
    name: str,
    scopes: list[str],
    by: Actor,
    expires_at: dt.datetime | None = None,
    two_factor: bool = False,
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and the secret, which is never stored or shown
    again."""
    unknown = sorted(set(scopes) - set(ApiToken.Scope.values))
    if unknown:
        raise ValidationError({"scopes": f"Unknown scopes: {', '.join(unknown)}"})
    if not name.strip():
        raise ValidationError({"name": "Give the token a name, to tell it apart later."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user,
        name=name.strip()[:100],
        prefix=prefix,
        token_hash=token_hash(secret),
        scopes=sorted(set(scopes) | {ApiToken.Scope.READ}),
        expires_at=expires_at,
        two_factor=two_factor,
    )
    with transaction.atomic():
        token.save()
        audit(
            by=by,
            action="accounts.token.create",
            object_type="accounts.apitoken",
            object_key=prefix,
            after={
                "name": token.name,
                "scopes": token.scopes,
                "user": user.get_username(),
                "two_factor": two_factor,
            },
        )
    return token, secret


def revoke_token(token: ApiToken, *, by: Actor) -> None:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(
            by=by,
            action="accounts.token.revoke",
            object_type="accounts.apitoken",
            object_key=token.prefix,
        )


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token ``secret`` names, or None (unknown, revoked, expired, or its owner
    deactivated)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        # Written at most every five minutes: a busy token does not write on every request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def set_mail_preference(person: Person, *, digest: bool, by: Actor) -> Person:
    """Single clearance mails as they happen, or one daily digest."""
    from gmg.core.services import save_record

    person.email_digest = digest
    return save_record(person, by=by, action="accounts.person.mail_preference")
