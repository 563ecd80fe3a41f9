"""Slowing down password and code guessing, without locking the real user out.

Failed sign-ins are counted per address and per account, in the shared ``throttle`` cache
(django-ratelimit's counters). Past the account's allowance, guesses from browsers that
never signed in to the account are refused; a browser that has (it carries a signed "known
device" cookie naming the account) keeps a separate allowance, so an attacker hammering an
account cannot lock its owner out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

DEVICE_COOKIE = "gmg_device"
DEVICE_SALT = "gmg.accounts.known-device"
DEVICE_MAX_AGE = 365 * 24 * 3600


def _account(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def known_accounts(request: HttpRequest) -> list[str]:
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    if not raw:
        return []
    try:
        value = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def remember_device(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """After a full sign-in: this browser is now known for ``username``."""
    accounts = [a for a in known_accounts(request) if a != _account(username)]
    accounts = [_account(username), *accounts][:5]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(accounts, salt=DEVICE_SALT),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
    )


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int


def _usage(request: HttpRequest, group: str, value: str, rate: str, increment: bool):
    return get_usage(
        request, group=group, key=lambda _group, _request: value, rate=rate, increment=increment
    )


def client_address(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or behind a proxy the header it sets
    (``GMG_CLIENT_IP_HEADER``, e.g. X-Real-IP), which clients cannot forge past the proxy."""
    header = settings.GMG_CLIENT_IP_HEADER
    if header:
        meta_name = "HTTP_" + header.upper().replace("-", "_")
        value = request.META.get(meta_name, "").split(",")[0].strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR", "")


def _buckets(request: HttpRequest, username: str, step: str) -> list[tuple[str, str, str]]:
    account = _account(username)
    known = account in known_accounts(request)
    return [
        (
            f"{step}-address",
            client_address(request),
            settings.GMG_LOGIN_FAILURES_PER_ADDRESS,
        ),
        (
            f"{step}-account-known" if known else f"{step}-account",
            account,
            settings.GMG_LOGIN_FAILURES_PER_ACCOUNT,
        ),
    ]


def refused(request: HttpRequest, username: str, step: str = "password") -> Refusal | None:
    """Whether this attempt must be refused before the password (or code) is even checked."""
    for group, value, rate in _buckets(request, username, step):
        usage = _usage(request, group, value, rate, increment=False)
        if usage and usage["count"] >= usage["limit"]:
            wait = max(1, usage["time_left"])
            if group.endswith("address"):
                message = "Too many failed sign-ins from your network. Try again later."
            else:
                message = (
                    "Too many failed sign-ins for this account. Try again later, or from a "
                    "browser you have signed in with before, or reset your password."
                )
            return Refusal(f"{message} (about {max(1, wait // 60)} min)", wait)
    return None


def record_failure(request: HttpRequest, username: str, step: str = "password") -> None:
    for group, value, rate in _buckets(request, username, step):
        _usage(request, group, value, rate, increment=True)
