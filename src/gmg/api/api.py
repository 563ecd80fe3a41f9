"""The JSON API: one NinjaAPI, one router per domain, one error shape."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from gmg import __version__
from gmg.accounts.api import router as accounts_router
from gmg.api.auth import READ_AUTH
from gmg.api.writes import WriteRejected
from gmg.clearance.api import router as clearance_router
from gmg.governance.api import router as governance_router
from gmg.registry.api import router as registry_router
from gmg.repository.api import router as repository_router
from gmg.workgroups.api import router as workgroups_router


class GmgApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Reads may be anonymous: say so (``{}``) beside the token and session schemes; and
        declare the errors every operation can give."""
        schema = super().get_openapi_schema(*args, **kwargs)
        error = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        }
        for path in schema["paths"].values():
            for method, operation in path.items():
                responses = operation.setdefault("responses", {})
                # Any operation may meet a bad token (401) or input the database cannot
                # take, such as a NUL character (422, from RefuseNulCharacters).
                if any("BearerToken" in s for s in operation.get("security", [])):
                    responses.setdefault(401, {"description": "Unauthorized", **error})
                responses.setdefault(422, {"description": "Unprocessable Entity", **error})
                # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before it is read.
                if "requestBody" in operation:
                    responses.setdefault(413, {"description": "Content Too Large", **error})
                if method == "get" and operation.get("security"):
                    operation["security"].append({})
        return schema


api = GmgApi(
    title="GMG Platform API",
    version=__version__,
    description=(
        "The institutional record of an inter-agency coordination group: bodies, members, "
        "chair terms, working groups and joint outputs, each with its sources. "
        'Errors are JSON: {"detail": message, "errors": [...]} with a 4xx status. '
        "Reads need no credentials (you then see what the public sees); a personal token "
        "(Authorization: Bearer gmg_...) or a signed-in session shows what you may see. "
        "Writes need a token with the matching write scope, or a session with its CSRF token."
    ),
    urls_namespace="api",
    auth=READ_AUTH,
)
api.add_router("", registry_router)
api.add_router("", governance_router)
api.add_router("", workgroups_router)
api.add_router("", repository_router)
api.add_router("", accounts_router)
api.add_router("", clearance_router)


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


@api.exception_handler(WriteRejected)
def write_rejected(request: HttpRequest, exc: WriteRejected) -> HttpResponse:
    error = exc.error
    errors: list[dict[str, Any]]
    if hasattr(error, "error_dict"):
        errors = [
            {
                "loc": ["body", name] if name != "__all__" else ["body"],
                "msg": msg,
                "type": "invalid",
            }
            for name, messages in error.message_dict.items()
            for msg in messages
        ]
    else:
        errors = [{"loc": ["body"], "msg": msg, "type": "invalid"} for msg in error.messages]
    detail = "the record was not saved: " + "; ".join(
        (f"{e['loc'][-1]}: " if len(e["loc"]) > 1 else "") + str(e["msg"]) for e in errors
    )
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
