"""Refusing input no database can store, before any view sees it."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "invalid input: the NUL character (U+0000) is not allowed"


class RefuseNulCharacters:
    """PostgreSQL cannot store U+0000 in text, so a NUL in a path, a query or a JSON body
    would end in a 500 deep inside a query. Refuse it at the door: 422 in the API's error
    shape under /api/, a plain 400 elsewhere (forms already refuse it field by field)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                error = {"loc": ["request"], "msg": NUL_MESSAGE, "type": "value_error"}
                return JsonResponse({"detail": NUL_MESSAGE, "errors": [error]}, status=422)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        raw_path = request.META.get("PATH_INFO", "") + request.META.get("QUERY_STRING", "")
        if "\x00" in raw_path or b"\x00" in unquote_to_bytes(raw_path):
            return True
        if not request.path.startswith("/api/") or request.method in ("GET", "HEAD"):
            return False
        if request.content_type == "application/json":
            if b"\x00" in request.body:
                return True
            if b"\\u0000" not in request.body:
                return False
            try:
                return _contains_nul(json.loads(request.body))
            except ValueError:
                return False  # the API answers malformed JSON itself
        return any("\x00" in value for value in request.POST.values())


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False
