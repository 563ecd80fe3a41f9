"""The JSON API: one NinjaAPI, one router per domain, one error shape."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from gmg import __version__
from gmg.governance.api import router as governance_router
from gmg.registry.api import router as registry_router
from gmg.repository.api import router as repository_router
from gmg.workgroups.api import router as workgroups_router

api = NinjaAPI(
    title="GMG Platform API",
    version=__version__,
    description=(
        "The institutional record of an inter-agency coordination group: bodies, members, "
        "chair terms, working groups and joint outputs, each with its sources. "
        'Errors are JSON: {"detail": message, "errors": [...]} with a 4xx status.'
    ),
    urls_namespace="api",
)
api.add_router("", registry_router)
api.add_router("", governance_router)
api.add_router("", workgroups_router)
api.add_router("", repository_router)


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error.get("loc", [])[1:]) or "request"
    return f"{location}: {error.get('msg', 'invalid')}"


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    detail = "invalid input: " + "; ".join(_describe(e) for e in exc.errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
