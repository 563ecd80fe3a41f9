"""Whole-page caching of public pages, invalidated by the record's version.

Every write goes through a service that writes an audit entry, so the newest audit entry's
id is a version of the whole record: a page cached under version N is never served once
anything has changed. Only anonymous GET requests are cached (no session, no user), so a
member's view can never be served to the public or the other way round.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

CACHE_ALIAS = "pages"


def _code_salt() -> str:
    """Changes whenever the code that renders pages does: its version and its files' times."""
    from pathlib import Path

    import gmg

    root = Path(gmg.__file__).parent
    newest = max(
        (
            p.stat().st_mtime_ns
            for p in root.rglob("*")
            if p.suffix in {".html", ".py", ".css", ".js"}
        ),
        default=0,
    )
    return f"{gmg.__version__}:{newest}"


CODE_SALT = _code_salt()


def record_version() -> int:
    from gmg.accounts.models import AuditEntry

    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _cacheable(request: HttpRequest) -> bool:
    if request.method != "GET" or not settings.GMG_PAGE_CACHE_SECONDS:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False  # a signed-in (or signing-in) person: their page may differ
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def cache_public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve ``view``'s 200 responses to anonymous visitors from the page cache."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        raw = f"{CODE_SALT}|{record_version()}|{request.get_host()}|{request.get_full_path()}"
        key = "page:" + hashlib.sha256(raw.encode()).hexdigest()
        cache = caches[CACHE_ALIAS]
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            response = HttpResponse(content, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            cache.set(
                key,
                (response.content, response["Content-Type"]),
                settings.GMG_PAGE_CACHE_SECONDS,
            )
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
