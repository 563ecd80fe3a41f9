"""Who may open a page: members (signed in) and the secretariat (signed in with TOTP)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect

from gmg.accounts.roles import holds_secretariat_role
from gmg.core.viewer import Viewer


def signed_in_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> Any:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def secretariat_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Secretariat only; a secretariat member who has not passed TOTP is sent to do so."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> Any:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not Viewer.from_request(request).is_secretariat:
            if holds_secretariat_role(request.user):
                return redirect("accounts:two_factor")
            raise PermissionDenied("This page is for the secretariat.")
        return view(request, *args, **kwargs)

    return wrapper
