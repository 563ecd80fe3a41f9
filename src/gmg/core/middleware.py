"""Refusing input no database can store, before any view sees it."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "invalid input: the NUL character (U+0000) is not allowed"


def too_big_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return f"the request body is larger than {limit:g} MB (files are sent as multipart uploads)"


class RefuseNulCharacters:
    """PostgreSQL cannot store U+0000 in text, so a NUL in a path, a query or a JSON body
    would end in a 500 deep inside a query. Refuse it at the door: 422 in the API's error
    shape under /api/, a plain 400 elsewhere (forms already refuse it field by field)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            has_nul = self._has_nul(request)
        except RequestDataTooBig:
            # Django would answer with its HTML 400; the API answers in its own shape.
            if not request.path.startswith("/api/"):
                raise
            message = too_big_message()
            error = {"loc": ["body"], "msg": message, "type": "too_large"}
            return JsonResponse({"detail": message, "errors": [error]}, status=413)
        if has_nul:
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
