"""Deployment checks of our own, run by ``gmg check --deploy`` with Django's (tag deploy).

Each is an Error: ``gmg check --deploy`` fails on any of them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_configuration(app_configs, **kwargs) -> list[Error]:
    problems: list[Error] = []

    def fail(code: str, message: str, hint: str) -> None:
        problems.append(Error(message, hint=hint, id=f"gmg.E{code}"))

    if not settings.PRODUCTION:
        fail("001", "GMG_ENV is not 'production'.", "Set GMG_ENV=production on servers.")
    if settings.DEBUG:
        fail("002", "Debug pages are on.", "Unset GMG_DEBUG.")
    if len(settings.SECRET_KEY) < 40 or settings.SECRET_KEY.startswith("django-insecure"):
        fail(
            "003",
            "The secret key is short or a placeholder.",
            "Set GMG_SECRET_KEY to 50+ random characters.",
        )
    if not settings.GMG_BASE_URL.startswith("https://"):
        fail(
            "004",
            f"GMG_BASE_URL ({settings.GMG_BASE_URL}) is not https: links in mails would send "
            "invitation and reset tokens in the clear.",
            "Set GMG_BASE_URL=https://your.host",
        )
    if "console" in settings.EMAIL_BACKEND or "locmem" in settings.EMAIL_BACKEND:
        fail(
            "005",
            "Mail is not sent (console backend): invitations and resets would never arrive.",
            "Set GMG_EMAIL_HOST (and GMG_EMAIL_USER/PASSWORD/TLS as needed).",
        )
    if not settings.SESSION_COOKIE_SECURE or not settings.CSRF_COOKIE_SECURE:
        fail("006", "Cookies may travel over plain HTTP.", "Run with GMG_ENV=production.")
    if settings.SECURE_HSTS_SECONDS < 86400:
        fail("007", "HSTS is off or shorter than a day.", "Leave GMG_HSTS_SECONDS at its default.")
    if settings.GMG_UPLOAD_MAX_BYTES > 200 * 1024 * 1024:
        fail("008", "Uploads over 200 MB are allowed.", "Lower GMG_UPLOAD_MAX_MB.")
    private = settings.GMG_PRIVATE_DIR
    static = settings.STATIC_ROOT
    if private == static or static in private.parents or private in static.parents:
        fail(
            "009",
            "The private files directory overlaps the static files directory, which is public.",
            "Point GMG_PRIVATE_DIR elsewhere.",
        )
    if "frame-ancestors" not in settings.CONTENT_SECURITY_POLICY.get("DIRECTIVES", {}):
        fail("010", "The Content-Security-Policy does not forbid framing.", "Restore the policy.")
    return problems
