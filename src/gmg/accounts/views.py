"""Signing in (password, then TOTP when set up), invitations, tokens, and the profile."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import django_otp
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from gmg.accounts import services, throttle
from gmg.accounts.decorators import secretariat_required, signed_in_required
from gmg.accounts.forms import (
    AcceptInvitationForm,
    CodeForm,
    InvitationForm,
    SignInForm,
    TokenForm,
)
from gmg.accounts.models import ApiToken, Invitation, Person, RoleAssignment
from gmg.accounts.roles import holds_secretariat_role
from gmg.core.viewer import Viewer, two_factor_passed

PENDING_USER = "gmg_pending_user"
PENDING_AT = "gmg_pending_at"
PENDING_NEXT = "gmg_pending_next"
PENDING_SECONDS = 300  # the code must follow the password within five minutes


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/members-area/"


def _too_many(request: HttpRequest, template: str, context: dict, refusal) -> HttpResponse:
    context["refusal"] = refusal.message
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context = {"form": form, "next": next_url}
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        refusal = throttle.refused(request, email)
        if refusal:
            return _too_many(request, "accounts/sign_in.html", context, refusal)
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if user is None:
            throttle.record_failure(request, email)
            form.add_error(None, "The email or the password is not right.")
        elif django_otp.user_has_device(user, confirmed=True):
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = time.time()
            request.session[PENDING_NEXT] = _next_url(request, next_url)
            return redirect("accounts:verify")
        else:
            login(request, user)
            if holds_secretariat_role(user):
                messages.info(
                    request,
                    "Secretariat accounts sign in with a second factor. Set it up to continue.",
                )
                response = redirect("accounts:two_factor")
            else:
                response = redirect(_next_url(request, next_url))
            throttle.remember_device(request, response, email)
            return response
    return render(request, "accounts/sign_in.html", context)


def verify(request: HttpRequest) -> HttpResponse:
    """The second step: the TOTP code of a user whose password was right."""
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        messages.info(request, "Sign in again: the code must follow the password within 5 min.")
        return redirect("accounts:sign_in")
    user = get_object_or_404(get_user_model(), pk=user_id, is_active=True)
    form = CodeForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        refusal = throttle.refused(request, user.get_username(), step="code")
        if refusal:
            return _too_many(request, "accounts/verify.html", context, refusal)
        if _code_too_soon(user):
            # django-otp makes a device wait after a wrong code; a right code typed in that
            # moment is not a failure, just early.
            form.add_error("code", "Wait a few seconds after a wrong code, then try again.")
            return render(request, "accounts/verify.html", context)
        device = django_otp.match_token(user, form.cleaned_data["code"].strip())
        if device is None:
            throttle.record_failure(request, user.get_username(), step="code")
            form.add_error("code", "That code is not right, or has expired. Try the next one.")
        else:
            next_url = request.session.get(PENDING_NEXT) or "/members-area/"
            for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
                request.session.pop(key, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            django_otp.login(request, device)
            response = redirect(next_url)
            throttle.remember_device(request, response, user.get_username())
            return response
    return render(request, "accounts/verify.html", context)


def _code_too_soon(user: Any) -> bool:
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    return bool(devices) and not any(d.verify_is_allowed()[0] for d in devices)


@signed_in_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up TOTP: scan the code, then confirm with a first code."""
    import qrcode
    import qrcode.image.svg

    user: Any = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None and request.user.is_verified():  # type: ignore[union-attr]
        return render(request, "accounts/two_factor.html", {"device": confirmed})
    if confirmed is not None:
        # Set up already but this session did not pass it: sign in again with the code.
        logout(request)
        messages.info(request, "Sign in with your code to continue.")
        return redirect("accounts:sign_in")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            services.audit(
                by=services.Actor.for_user(request.user),
                action="accounts.two_factor.enable",
                object_type="auth.user",
                object_key=request.user.get_username(),
            )
            messages.success(request, "Two-factor sign-in is on.")
            return redirect("accounts:profile")
        form.add_error("code", "That code is not right. Check the time on your phone.")
    qr = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return render(
        request,
        "accounts/two_factor.html",
        {
            "form": form,
            "qr_svg": qr.to_string(encoding="unicode"),
            "secret": _base32(device.bin_key),
            "required": holds_secretariat_role(request.user),
        },
    )


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("site:home")


def accept_invitation(request: HttpRequest, secret: str) -> HttpResponse:
    try:
        invitation = services.find_invitation(secret)
    except services.InvitationInvalid as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(secret, form.cleaned_data["password"])
        except ValidationError as exc:
            form.add_error("password", exc)
        except services.InvitationInvalid as exc:
            return render(
                request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410
            )
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if holds_secretariat_role(user):
                return redirect("accounts:two_factor")
            messages.success(request, "Welcome. Your account is ready.")
            return redirect("members_area:dashboard")
    return render(request, "accounts/accept.html", {"form": form, "invitation": invitation})


@signed_in_required
def profile(request: HttpRequest) -> HttpResponse:
    person = (
        Person.objects.select_related("entity")
        .prefetch_related(
            Prefetch("roles", queryset=RoleAssignment.objects.select_related("working_group"))
        )
        .filter(user_id=request.user.pk or 0)
        .first()
    )
    viewer = Viewer.from_request(request)
    from gmg.registry.models import Body
    from gmg.workgroups.models import WorkingGroup

    return render(
        request,
        "accounts/profile.html",
        {
            "person": person,
            "viewer": viewer,
            "bodies": Body.objects.filter(pk__in=viewer.body_ids),
            "chaired": Body.objects.filter(pk__in=viewer.chairs_body_ids),
            "groups": WorkingGroup.objects.filter(pk__in=viewer.working_group_ids),
            "co_chaired": WorkingGroup.objects.filter(pk__in=viewer.co_chairs_group_ids),
            "has_two_factor": django_otp.user_has_device(request.user, confirmed=True),
        },
    )


@signed_in_required
@require_POST
def mail_preference(request: HttpRequest) -> HttpResponse:
    person = Person.objects.filter(user_id=request.user.pk or 0).first()
    if person is None:
        messages.error(request, "Your account has no profile to keep a preference in.")
        return redirect("accounts:profile")
    choice = request.POST.get("digest", "")
    if choice not in ("0", "1"):
        messages.error(request, "Choose single mails or a daily digest.")
        return redirect("accounts:profile")
    services.set_mail_preference(
        person, digest=choice == "1", by=services.Actor.for_user(request.user)
    )
    messages.success(
        request, "You will get a daily digest." if choice == "1" else "You will get single mails."
    )
    return redirect("accounts:profile")


@signed_in_required
def tokens(request: HttpRequest) -> HttpResponse:
    verified = two_factor_passed(request.user)
    if holds_secretariat_role(request.user) and not verified:
        # A token made now would carry the secretariat's rights without the second factor.
        messages.info(request, "Set up two-factor sign-in before making API tokens.")
        return redirect("accounts:two_factor")
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("expires_in_days")
        try:
            token, secret = services.create_token(
                request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                by=services.Actor.for_user(request.user),
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                two_factor=verified,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            created = {"token": token, "secret": secret}
            form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": ApiToken.objects.filter(user_id=request.user.pk or 0),
            "now": timezone.now(),
        },
    )


@signed_in_required
@require_POST
def revoke_token(request: HttpRequest, prefix: str) -> HttpResponse:
    user: Any = request.user
    token = get_object_or_404(ApiToken, user=user, prefix=prefix, revoked_at=None)
    services.revoke_token(token, by=services.Actor.for_user(request.user))
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("accounts:tokens")


@secretariat_required
def invitations(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        roles = [services.RoleSpec(r) for r in data["roles"]] + [
            services.RoleSpec(RoleAssignment.Role.WORKING_GROUP_MEMBER, g.key)
            for g in data["working_groups"]
        ]
        try:
            _, link = services.invite(
                email=data["email"],
                name=data["name"],
                entity_id=data["entity"].pk if data["entity"] else None,
                roles=roles,
                by=services.Actor.for_user(request.user),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation sent to {data['email']}.")
            return redirect("accounts:invitations")
    return render(
        request,
        "accounts/invitations.html",
        {
            "form": form,
            "invitations": Invitation.objects.select_related("entity")[:200],
            "now": timezone.now(),
        },
    )


@secretariat_required
@require_POST
def revoke_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation, pk=pk, accepted_at__isnull=True, revoked_at__isnull=True
    )
    services.revoke_invitation(invitation, by=services.Actor.for_user(request.user))
    messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect("accounts:invitations")


class AuditedPasswordResetConfirmView(PasswordResetConfirmView):
    """Django's reset page, with the change written to the audit log."""

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever holds the mailed link owns the account: this browser is now known to it,
        # so a lock-out by someone else's guessing does not keep them out.
        throttle.remember_device(self.request, response, form.user.get_username())
        services.audit(
            by=services.Actor.for_user(form.user),
            action="accounts.password.reset",
            object_type="auth.user",
            object_key=form.user.get_username(),
        )
        return response
