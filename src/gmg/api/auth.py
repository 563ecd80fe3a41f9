"""Who calls the API: a personal token (Bearer), a signed-in browser session, or nobody.

Reads accept all three (anonymous callers see what the public sees). Writes need a token
with the right scope, or a session (with its CSRF token); the caller's roles then decide.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from gmg.accounts.models import ApiToken
from gmg.accounts.roles import viewer_for
from gmg.accounts.services import Actor, token_for_secret


class BearerToken(HttpBearer):
    """``Authorization: Bearer gmg_…``: a personal API token, checked against its hash."""

    def __init__(self, scope: str = ApiToken.Scope.READ):
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_for_secret(token.strip())
        if found is None:
            raise HttpError(401, "The API token is not valid: unknown, revoked or expired.")
        if self.scope not in found.scopes:
            raise HttpError(403, f"This token does not have the scope {self.scope!r}.")
        request._gmg_viewer = viewer_for(  # type: ignore[attr-defined]
            found.user, verified=found.two_factor
        )
        request._gmg_actor = Actor(  # type: ignore[attr-defined]
            label=f"{found.user.get_username()} (token {found.prefix})", user_id=found.user.pk
        )
        return found


class Session(SessionAuth):
    """A signed-in browser; unsafe methods need the CSRF token, as forms do."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


class Public:
    """No credentials: the public. Only on reads."""

    def __call__(self, request: HttpRequest) -> Any:
        return "anonymous"


READ_AUTH: list[Any] = [BearerToken(), Session(), Public()]
# Reads that are never public: without credentials, a 401 rather than a 403.
SIGNED_IN: list[Any] = [BearerToken(), Session()]


def write_auth(scope: str) -> list:
    return [BearerToken(scope), Session()]


def actor_for(request: HttpRequest) -> Actor:
    actor = getattr(request, "_gmg_actor", None)
    if actor is not None:
        return actor
    return Actor.for_user(request.user)
