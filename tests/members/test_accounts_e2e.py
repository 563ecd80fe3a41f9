"""Accounts end to end, through the real views and URLs: sign-in throttling, API tokens and
their revocation, invitations (also through a real SMTP server), TOTP, password reset.

Browsers here enforce CSRF like real ones: each form is fetched first and posted back with
its token. Time is moved where a test needs it: django-ratelimit's clock is frozen (so a
window boundary cannot reset a counter mid-test) and the TOTP clock is stepped.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import email.utils
import re
import socket
import time
import types
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from gmg.accounts.models import ApiToken, AuditEntry, Invitation, Person, RoleAssignment
from gmg.accounts.services import RoleSpec
from gmg.accounts.throttle import DEVICE_COOKIE

from .conftest import PASSWORD, make_person

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 77"
LINK = re.compile(r"https?://\S+")


# -- a browser -------------------------------------------------------------------------------


def browser(address: str = "127.0.0.1") -> Client:
    """A browser at ``address`` that, like a real one, needs the CSRF token to post."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address)


def submit(client: Client, url: str, data: dict, **extra):
    """Open the form at ``url``, then post ``data`` with the page's CSRF token."""
    page = client.get(url)
    assert page.status_code in (200, 429), (url, page.status_code)
    return post_form(client, url, data, **extra)


def post_form(client: Client, url: str, data: dict, **extra):
    """Post ``data`` from a form opened earlier (its CSRF token is in the cookie)."""
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, **extra)


def sign_in(client: Client, email_address: str, password: str, next_url: str = ""):
    data = {"email": email_address, "password": password}
    if next_url:
        data["next"] = next_url
    return submit(client, "/accounts/sign-in/", data)


def signed_in_as(client: Client):
    from django.contrib.auth import SESSION_KEY

    return client.session.get(SESSION_KEY)


def text(response) -> str:
    return response.content.decode()


def link_in(message) -> str:
    """The path of the one link in a mail body."""
    links = LINK.findall(message)
    assert len(links) == 1, message
    return urlsplit(links[0]).path


# -- clocks ----------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def throttle(settings, monkeypatch):
    """Small allowances, empty counters and a frozen counting clock."""
    import django_ratelimit.core

    settings.GMG_LOGIN_FAILURES_PER_ACCOUNT = "3/15m"
    settings.GMG_LOGIN_FAILURES_PER_ADDRESS = "10/15m"
    clock = Clock(time.time())
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=clock.time))
    caches["throttle"].clear()
    yield clock
    caches["throttle"].clear()


@pytest.fixture
def totp_clock(monkeypatch) -> Clock:
    """The clock the TOTP devices read (only theirs)."""
    import django_otp.plugins.otp_totp.models as totp_models

    clock = Clock(time.time())
    monkeypatch.setattr(totp_models, "time", types.SimpleNamespace(time=clock.time))
    return clock


def code_for(device: TOTPDevice, at: float, *, step_offset: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice, at: float) -> str:
    """A six-digit code no step within the tolerance accepts."""
    near = {code_for(device, at, step_offset=k) for k in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(100000, 999999, 7919)) if c not in near)


# -- 1. throttling ---------------------------------------------------------------------------


def test_failed_passwords_lock_unknown_browsers_out_but_not_the_owners(people, throttle):
    owner = people["unicef"]
    # The owner's browser signed in before: it carries the known-device cookie.
    known = browser()
    response = sign_in(known, owner.email, PASSWORD)
    assert response.status_code == 302 and DEVICE_COOKIE in response.cookies
    known.post("/accounts/sign-out/", {"csrfmiddlewaretoken": known.cookies["csrftoken"].value})
    assert signed_in_as(known) is None

    attacker = browser()
    for _ in range(3):
        response = sign_in(attacker, owner.email, "not the password at all")
        assert response.status_code == 200
        assert "The email or the password is not right." in text(response)
    # The fourth attempt is refused before the password is looked at, even the right one.
    response = sign_in(attacker, owner.email, PASSWORD)
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert "Too many failed sign-ins for this account" in text(response)
    assert signed_in_as(attacker) is None
    # Another spelling of the same address is the same account.
    response = sign_in(attacker, owner.email.upper(), PASSWORD)
    assert response.status_code == 429

    # The owner's browser still gets in.
    response = sign_in(known, owner.email, PASSWORD)
    assert response.status_code == 302, text(response)
    assert response["Location"] == "/members-area/"
    assert signed_in_as(known) == str(owner.user.pk)

    # Other accounts are not affected from the attacker's browser.
    response = sign_in(attacker, people["fao_data"].email, PASSWORD)
    assert response.status_code == 302
    # Once the window has passed, the account opens again to any browser.
    throttle.advance(retry_after + 1)
    response = sign_in(browser(), owner.email, PASSWORD)
    assert response.status_code == 302


def test_failures_from_one_address_block_every_account_from_it(people, throttle):
    noisy = "198.51.100.7"
    for n in range(10):  # many accounts, a few guesses each: under every account's allowance
        response = sign_in(browser(noisy), f"someone{n % 4}@example.org", "guess")
        assert response.status_code == 200, n
    for name in ("fao_data", "wfp_mainstreaming"):
        response = sign_in(browser(noisy), people[name].email, PASSWORD)
        assert response.status_code == 429, name
        assert int(response["Retry-After"]) > 0
        assert "Too many failed sign-ins from your network" in text(response)
    # Another address is not affected.
    response = sign_in(browser("203.0.113.9"), people["fao_data"].email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/members-area/"


def test_the_totp_code_step_is_throttled(people, throttle):
    member = people["secretariat"]
    client = browser()
    response = sign_in(client, member.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/sign-in/code/"
    wrong = wrong_code_for(member.device, time.time())
    for attempt in range(3):
        response = submit(client, "/accounts/sign-in/code/", {"code": wrong})
        assert response.status_code == 200
        assert "That code is not right" in text(response)
        if attempt == 0:
            # Straight after a wrong code django-otp makes the device wait: even the right
            # code is then asked again, without counting as a failure.
            early = submit(
                client, "/accounts/sign-in/code/", {"code": code_for(member.device, time.time())}
            )
            assert early.status_code == 200 and "Wait a few seconds" in text(early)
        # Waiting out django-otp's own back-off, as a person typing would.
        TOTPDevice.objects.filter(pk=member.device.pk).update(throttling_failure_timestamp=None)
    right = code_for(member.device, time.time())
    response = submit(client, "/accounts/sign-in/code/", {"code": right})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed sign-ins for this account" in text(response)
    assert signed_in_as(client) is None
    # Starting over with the password does not reset the code's count.
    response = sign_in(client, member.email, PASSWORD)
    assert response["Location"] == "/accounts/sign-in/code/"
    response = submit(client, "/accounts/sign-in/code/", {"code": right})
    assert response.status_code == 429


# -- 2. API tokens ---------------------------------------------------------------------------


def create_token_on_page(client: Client, name: str, scopes: list[str], days: int | None = 30):
    data = {"name": name, "scopes": scopes}
    if days is not None:
        data["expires_in_days"] = days
    response = client.post("/accounts/tokens/", data)
    assert response.status_code == 200
    created = response.context["created"]
    assert created is not None, response.context["form"].errors
    secret = created["secret"]
    assert secret in text(response)  # shown once, on this page
    return created["token"], secret


def api(method: str, path: str, secret: str, **data):
    client = Client()  # no session: the token alone
    call = getattr(client, method)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if method == "get":
        return call(path, **kwargs)
    return call(path, data=data, **kwargs)


def assert_refused_token(response) -> None:
    assert response.status_code == 401, (response.status_code, response.content[:300])
    assert response.json()["detail"] == ("The API token is not valid: unknown, revoked or expired.")


def test_a_revoked_or_expired_token_is_refused_and_scopes_hold(people, clients):
    owner = people["unicef"]
    page = clients["unicef"]
    token, secret = create_token_on_page(page, "reporting script", [])

    response = api("get", "/api/me", secret)
    assert response.status_code == 200
    me = response.json()
    assert me["signed_in"] and me["email"] == owner.email and me["entity"] == "UNICEF"
    assert me["token_scopes"] == ["read"]

    # A token without the write scope cannot write, though its owner could.
    document = {"title": "A note", "body": "gmg", "visibility": "body", "text": "hello"}
    response = api("post", "/api/documents", secret, **document)
    assert response.status_code == 403
    assert "write:documents" in response.json()["detail"]
    _, writer = create_token_on_page(page, "uploader", ["write:documents"])
    response = api("post", "/api/documents", writer, **document)
    assert response.status_code == 201, response.content

    # Someone else cannot revoke it; its owner can.
    response = clients["fao_data"].post(f"/accounts/tokens/{token.prefix}/revoke/")
    assert response.status_code == 404
    response = page.post(f"/accounts/tokens/{token.prefix}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None

    # From then on every call with it is refused, reads included: not served as the public.
    for path in ("/api/me", "/api/bodies", "/api/outputs", "/api/documents"):
        assert_refused_token(api("get", path, secret))
    assert_refused_token(api("post", "/api/documents", secret, **document))
    # Revoking twice is not possible (it is no longer live).
    assert page.post(f"/accounts/tokens/{token.prefix}/revoke/").status_code == 404

    # Created and revoked, each in the audit log, by the owner.
    for action in ("accounts.token.create", "accounts.token.revoke"):
        entry = AuditEntry.objects.get(action=action, object_key=token.prefix)
        assert entry.actor_id == owner.user.pk and entry.actor_label == owner.email
    assert AuditEntry.objects.get(action="accounts.token.create", object_key=token.prefix).after[
        "scopes"
    ] == ["read"]

    # An expired token likewise.
    expiring, expiring_secret = create_token_on_page(page, "short-lived", [], days=1)
    assert api("get", "/api/me", expiring_secret).status_code == 200
    ApiToken.objects.filter(pk=expiring.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert_refused_token(api("get", "/api/me", expiring_secret))
    assert_refused_token(api("get", "/api/bodies", expiring_secret))
    # And a token that was never issued.
    assert_refused_token(api("get", "/api/me", secret[:-4] + "AAAA"))


# -- 3. invitations --------------------------------------------------------------------------


def invite(client: Client, address: str, name: str, **fields):
    response = client.post("/accounts/invitations/", {"email": address, "name": name, **fields})
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == "/accounts/invitations/"
    return Invitation.objects.get(email=address)


def test_invitation_link_works_once_until_it_expires(clients, settings):
    User = get_user_model()
    mail.outbox.clear()
    invitation = invite(
        clients["secretariat"],
        "new.person@example.org",
        "New Person",
        entity="UNICEF",
        roles=["focal_point"],
        working_groups=["wg-data-research"],
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert "invitation" in message.subject.lower()
    path = link_in(message.body)
    assert message.body.count(settings.GMG_BASE_URL + path) == 1
    assert path.startswith("/accounts/invitation/")
    entry = AuditEntry.objects.get(action="accounts.invitation.create", object_key=invitation.email)
    assert entry.actor_label == "secretariat@example.org"

    visitor = browser()
    page = visitor.get(path)
    assert page.status_code == 200
    assert "Welcome, New Person" in text(page) and "new.person@example.org" in text(page)
    # A second tab opens the form too, and will post after the first.
    other_tab = browser()
    assert other_tab.get(path).status_code == 200

    # A password that is too short is a form error and creates nothing.
    response = submit(visitor, path, {"password": "short1", "password_again": "short1"})
    assert response.status_code == 200
    assert "too short" in text(response)
    assert not User.objects.filter(username="new.person@example.org").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None

    # The right way: an account with the invitation's entity and roles, signed in.
    response = submit(visitor, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/members-area/"
    user = User.objects.get(username="new.person@example.org")
    assert signed_in_as(visitor) == str(user.pk)
    person = Person.objects.get(user=user)
    assert person.entity.acronym == "UNICEF"
    assert sorted(
        (r.role, r.working_group.key if r.working_group else None) for r in person.roles.all()
    ) == [
        (RoleAssignment.Role.FOCAL_POINT, None),
        (RoleAssignment.Role.WORKING_GROUP_MEMBER, "wg-data-research"),
    ]
    assert AuditEntry.objects.filter(
        action="accounts.invitation.accept", object_key="new.person@example.org"
    ).exists()

    # Used: the link cannot be used twice, by anyone.
    page = browser().get(path)
    assert page.status_code == 410
    assert "already been used" in text(page)
    response = post_form(other_tab, path, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 410
    assert "already been used" in text(response)
    assert User.objects.filter(username="new.person@example.org").count() == 1
    assert signed_in_as(other_tab) is None

    # Expired: a second invitation, with time moved past its expiry.
    late = invite(
        clients["secretariat"],
        "late.person@example.org",
        "Late Person",
        entity="WFP",
        roles=["principal"],
    )
    late_path = link_in(mail.outbox[-1].body)
    visitor = browser()
    assert visitor.get(late_path).status_code == 200  # opened in time, sent too late
    Invitation.objects.filter(pk=late.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    page = browser().get(late_path)
    assert page.status_code == 410
    assert "This invitation has expired" in text(page)
    response = post_form(
        visitor, late_path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert "This invitation has expired" in text(response)
    assert not User.objects.filter(username="late.person@example.org").exists()
    assert signed_in_as(visitor) is None

    # A made-up link is refused the same way.
    page = browser().get("/accounts/invitation/not-a-real-secret/")
    assert page.status_code == 410 and "not valid" in text(page)


def test_two_pending_invitations_to_one_address_create_one_account(clients):
    """Inviting an address twice before it is accepted (a resend) must not let the second
    link crash on the account the first one made."""
    User = get_user_model()
    mail.outbox.clear()
    fields = {"email": "twice@example.org", "name": "Twice", "entity": "FAO"}
    first = clients["secretariat"].post(
        "/accounts/invitations/", {**fields, "roles": ["focal_point"]}
    )
    assert first.status_code == 302
    second = clients["secretariat"].post(
        "/accounts/invitations/", {**fields, "roles": ["focal_point"]}
    )
    if second.status_code == 200:  # refused at once: fine, with the reason on the form
        assert second.context["form"].errors
        assert Invitation.objects.filter(email="twice@example.org").count() == 1
        return
    assert second.status_code == 302 and len(mail.outbox) == 2
    first_path, second_path = (link_in(m.body) for m in mail.outbox)
    passwords = {"password": PASSWORD, "password_again": PASSWORD}
    late = browser()
    assert late.get(second_path).status_code == 200  # both links open, in two tabs
    assert submit(browser(), first_path, passwords).status_code == 302
    # The second link, used after the first made the account, is refused plainly.
    response = post_form(late, second_path, passwords)
    assert response.status_code == 410, response.status_code
    assert signed_in_as(late) is None
    assert browser().get(second_path).status_code == 410
    assert User.objects.filter(username="twice@example.org").count() == 1


def test_an_invitation_may_give_no_role(clients):
    """The form's roles are optional (and the API's default to none): a registered account
    with no role, which sees what the public sees, is invited like any other."""
    mail.outbox.clear()
    response = clients["secretariat"].post(
        "/accounts/invitations/", {"email": "reader@example.org", "name": "Reader"}
    )
    if response.status_code != 302:
        pytest.fail(f"refused: {response.context['form'].errors.as_text()}")
    assert Invitation.objects.get(email="reader@example.org").roles == []
    assert len(mail.outbox) == 1
    visitor = browser()
    response = submit(
        visitor, link_in(mail.outbox[0].body), {"password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 302
    assert not Person.objects.get(user__username="reader@example.org").roles.exists()


# -- 4. TOTP ---------------------------------------------------------------------------------


def test_totp_set_up_then_asked_at_each_sign_in(db, totp_clock):
    member = make_person("new_secretariat", None, [RoleSpec("secretariat")], totp=False)
    client = browser()

    # Password only: sent to set up the second factor, secretariat pages closed.
    response = sign_in(client, member.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    response = client.get("/members-area/audit/")
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    assert client.get("/admin/").status_code == 302

    # Scan: the page shows the key of a device waiting for its first code.
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    shown = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert shown in text(page)
    response = submit(
        client, "/accounts/two-factor/", {"code": wrong_code_for(device, totp_clock.now)}
    )
    assert response.status_code == 200 and "That code is not right" in text(response)
    device.refresh_from_db()
    assert not device.confirmed
    # django-otp makes a device wait 1 s after a wrong code; a person takes longer to retype.
    time.sleep(1.1)
    response = submit(client, "/accounts/two-factor/", {"code": code_for(device, totp_clock.now)})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(
        action="accounts.two_factor.enable", object_key=member.email
    ).exists()
    assert client.get("/members-area/audit/").status_code == 200

    # A later sign-in asks for the code; until then nothing is open.
    totp_clock.advance(90)
    fresh = browser()
    response = sign_in(fresh, member.email, PASSWORD, next_url="/members-area/audit/")
    assert response.status_code == 302 and response["Location"] == "/accounts/sign-in/code/"
    assert signed_in_as(fresh) is None
    response = fresh.get("/members-area/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/?next=")
    page = fresh.get("/accounts/sign-in/code/")
    assert page.status_code == 200 and "Enter your sign-in code" in text(page)

    response = submit(
        fresh, "/accounts/sign-in/code/", {"code": wrong_code_for(device, totp_clock.now)}
    )
    assert response.status_code == 200 and "That code is not right" in text(response)
    assert signed_in_as(fresh) is None
    time.sleep(1.1)
    response = submit(fresh, "/accounts/sign-in/code/", {"code": code_for(device, totp_clock.now)})
    assert response.status_code == 302 and response["Location"] == "/members-area/audit/"
    assert DEVICE_COOKIE in response.cookies
    assert signed_in_as(fresh) == str(member.user.pk)
    assert fresh.get("/members-area/audit/").status_code == 200
    # The code just used cannot be used again (another sign-in, same 30 s step).
    replay = browser()
    sign_in(replay, member.email, PASSWORD)
    response = submit(replay, "/accounts/sign-in/code/", {"code": code_for(device, totp_clock.now)})
    assert response.status_code == 200 and "That code is not right" in text(response)
    assert signed_in_as(replay) is None

    # Signed in without the code (a session from before the device, say): sent to sign in
    # again with it, never into the secretariat's pages.
    unverified = Client()
    unverified.force_login(member.user)
    response = unverified.get("/members-area/audit/")
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    response = unverified.get("/accounts/two-factor/")
    assert response.status_code == 302 and response["Location"] == "/accounts/sign-in/"
    assert signed_in_as(unverified) is None


# -- 5. a real SMTP server -------------------------------------------------------------------


class Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield collector
    finally:
        controller.stop()


def test_invitation_mail_goes_through_smtp(clients, smtp_server, settings):
    invite(
        clients["secretariat"],
        "smtp.person@example.org",
        "Smtp Person",
        entity="FAO",
        roles=["focal_point"],
    )
    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == ["smtp.person@example.org"]
    assert envelope.mail_from == email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["To"] == "smtp.person@example.org"
    assert "invitation" in message["Subject"].lower()
    body = message.get_content()
    path = link_in(body)
    assert "Dear Smtp Person" in body
    # The link in the mail as delivered is the one that works.
    page = browser().get(path)
    assert page.status_code == 200 and "Welcome, Smtp Person" in text(page)


# -- 6. password reset -----------------------------------------------------------------------


def test_password_reset_by_mail(people):
    member = people["fao_data"]
    mail.outbox.clear()
    client = browser()
    response = submit(client, "/accounts/password-reset/", {"email": member.email})
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    path = link_in(message.body)
    assert path.startswith("/accounts/password-reset/")
    # An unknown address gets the same answer and no mail (nothing to learn from it).
    response = submit(browser(), "/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and len(mail.outbox) == 1

    # The link leads to the form (Django moves the token into the session first).
    response = client.get(path)
    assert response.status_code == 302
    form_url = response["Location"]
    response = submit(client, form_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in text(response)
    response = submit(
        client, form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/done/"
    entry = AuditEntry.objects.get(action="accounts.password.reset", object_key=member.email)
    assert entry.actor_id == member.user.pk

    # The new password works, the old one does not, and the link is spent.
    response = sign_in(browser(), member.email, PASSWORD)
    assert response.status_code == 200 and "not right" in text(response)
    response = sign_in(browser(), member.email, NEW_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/members-area/"
    page = browser().get(path, follow=True)
    assert "This link is not valid any more" in text(page)


def test_a_password_reset_ends_other_sessions_and_lifts_the_account_lock(people, clients, throttle):
    """The lock message offers "or reset your password": after a reset by the mailed link,
    the new password opens the account, even from the browser that was locked out."""
    member = people["unicef"]
    old_session = clients["unicef"]
    assert old_session.get("/members-area/").status_code == 200
    locked = browser()
    for _ in range(3):
        assert sign_in(locked, member.email, "wrong guess").status_code == 200
    response = sign_in(locked, member.email, PASSWORD)
    assert response.status_code == 429 and "reset your password" in text(response)

    mail.outbox.clear()
    assert submit(locked, "/accounts/password-reset/", {"email": member.email}).status_code == 302
    form_url = locked.get(link_in(mail.outbox[0].body))["Location"]
    passwords = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert submit(locked, form_url, passwords).status_code == 302

    # Sessions signed in with the old password end.
    response = old_session.get("/members-area/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")
    # The new password opens the account from the browser that reset it.
    response = sign_in(locked, member.email, NEW_PASSWORD)
    assert response.status_code == 302, (response.status_code, response.get("Retry-After"))
