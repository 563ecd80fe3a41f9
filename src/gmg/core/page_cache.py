"""Whole-page caching of public pages, invalidated by the record's version.

Every write goes through a service that writes an audit entry, so the newest audit entry's
id is a version of the whole record: a page cached under version N is never served once
anything has changed. Only requests without a session cookie are cached: no one is signed
in on them, so a member's view can never be served to the public or the other way round.

Without GMG_CACHE_URL each worker keeps the pages in a small in-process LRU (plain bytes,
no pickling: a hit costs one indexed SQL read and a dictionary lookup). With it, pages go to
the shared cache (Redis) so that every worker and app server shares them.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse

CACHE_ALIAS = "pages"
LOCAL_ENTRIES = 2_000


def _code_salt() -> str:
    """Changes whenever the code that renders pages does: its version and its files' times."""
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

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {AuditEntry._meta.db_table}")  # noqa: S608
        row = cursor.fetchone()
    return row[0] or 0


class _LocalPages:
    """A bounded least-recently-used map of key -> (content, content type)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def set(self, key: str, value: tuple[bytes, str]) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


local_pages = _LocalPages(LOCAL_ENTRIES)


def _store_get(key: str):
    if settings.GMG_CACHE_URL:
        return caches[CACHE_ALIAS].get(key)
    return local_pages.get(key)


def _store_set(key: str, value: tuple[bytes, str]) -> None:
    if settings.GMG_CACHE_URL:
        caches[CACHE_ALIAS].set(key, value, settings.GMG_PAGE_CACHE_SECONDS)
    else:
        local_pages.set(key, value)


def _cacheable(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and bool(settings.GMG_PAGE_CACHE_SECONDS)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def cache_public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve ``view``'s 200 responses to anonymous visitors from the page cache."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        raw = f"{CODE_SALT}|{record_version()}|{request.get_host()}|{request.get_full_path()}"
        key = "page:" + hashlib.sha256(raw.encode()).hexdigest()
        hit = _store_get(key)
        if hit is not None:
            content, content_type = hit
            response = HttpResponse(content, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            _store_set(key, (response.content, response["Content-Type"]))
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
