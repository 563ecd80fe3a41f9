"""One settings module, configured from the environment with safe defaults.

Development needs no configuration: the data lives in ``GMG_DATA_DIR`` (default ``./data``)
with SQLite. Production (``GMG_ENV=production``) refuses to start without a secret key and
allowed hosts given in the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GMG_DATA_DIR", "data")).resolve()
GMG_ENV = os.environ.get("GMG_ENV", "development")
PRODUCTION = GMG_ENV == "production"


def _secret_key() -> str:
    key = os.environ.get("GMG_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("GMG_SECRET_KEY must be set when GMG_ENV=production")
    # Development: keep a random key in the data directory so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("GMG_DEBUG", "0") == "1" and not PRODUCTION

_hosts = os.environ.get("GMG_ALLOWED_HOSTS", "")
if PRODUCTION and not _hosts:
    raise ImproperlyConfigured("GMG_ALLOWED_HOSTS must be set when GMG_ENV=production")
ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()] or [
    "127.0.0.1",
    "localhost",
    "testserver",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "gmg.core",
    "gmg.accounts",
    "gmg.registry",
    "gmg.governance",
    "gmg.workgroups",
    "gmg.repository",
    "gmg.clearance",
    "gmg.api",
    "gmg.site",
    "gmg.reports",
    "ninja",  # serves the API docs' assets locally instead of from a CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gmg.core.middleware.RefuseNulCharacters",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gmg.urls"
WSGI_APPLICATION = "gmg.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'gmg.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Serialise writers up front (as Datasette does) instead of failing on lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Persistent, like PostgreSQL's: opening SQLite and running the PRAGMAs on every request
    # costs more than a cached page does.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATA_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: GMG_CACHE_URL (redis://...) shares them between app servers; without it each
# worker keeps its own bounded in-memory cache (pages are keyed by the record's version, so
# separate caches are never inconsistent, only warmed separately).
GMG_CACHE_URL = os.environ.get("GMG_CACHE_URL", "")
_shared_cache = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": GMG_CACHE_URL}
    if GMG_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gmg-pages"}
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": _shared_cache,
    "throttle": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": GMG_CACHE_URL}
        if GMG_CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "gmg_throttle",
        }
    ),
}
# Anonymous pages are cached until the record changes (and at most this long). 0 turns it off.
GMG_PAGE_CACHE_SECONDS = int(os.environ.get("GMG_PAGE_CACHE_SECONDS", "3600"))

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# -- accounts and sessions -------------------------------------------------------------------

# Argon2 first: new and changed passwords are hashed with it; older hashes upgrade on sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/sign-in/"
LOGIN_REDIRECT_URL = "/members/"
# Sessions expire after GMG_SESSION_HOURS of sign-in (default 12), and with the browser.
SESSION_COOKIE_AGE = int(float(os.environ.get("GMG_SESSION_HOURS", "12")) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
PASSWORD_RESET_TIMEOUT = 3 * 3600
GMG_INVITATION_DAYS = int(os.environ.get("GMG_INVITATION_DAYS", "7"))
OTP_TOTP_ISSUER = os.environ.get("GMG_SITE_NAME", "GMG Platform")
# Failed sign-ins allowed per window, per address and per account (see docs/configuration.md).
GMG_LOGIN_FAILURES_PER_ADDRESS = os.environ.get("GMG_LOGIN_FAILURES_PER_ADDRESS", "30/15m")
GMG_LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("GMG_LOGIN_FAILURES_PER_ACCOUNT", "5/15m")
# The counters live in a cache every app server shares: Redis with GMG_CACHE_URL, else the
# database (a table made by the migrations), so several workers count together.
RATELIMIT_USE_CACHE = "throttle"
# Behind a reverse proxy every request comes from the proxy: name the header it sets with the
# client's address (nginx: proxy_set_header X-Real-IP $remote_addr), or leave empty.
GMG_CLIENT_IP_HEADER = os.environ.get("GMG_CLIENT_IP_HEADER", "")
RATELIMIT_ENABLE = True

# -- mail --------------------------------------------------------------------------------------

# SMTP when GMG_EMAIL_HOST is set; otherwise mails are written to the console (development).
GMG_EMAIL_HOST = os.environ.get("GMG_EMAIL_HOST", "")
if GMG_EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = GMG_EMAIL_HOST
    EMAIL_PORT = int(os.environ.get("GMG_EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("GMG_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("GMG_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("GMG_EMAIL_TLS", "0") == "1"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("GMG_EMAIL_FROM", "GMG Platform <noreply@localhost>")
# The address links in mails point to (invitations, password resets).
GMG_BASE_URL = os.environ.get("GMG_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Clearance mail: people who chose the daily digest get it after this hour (UTC).
GMG_DIGEST_HOUR = int(os.environ.get("GMG_DIGEST_HOUR", "6"))
# `gmg serve` ticks (closes rounds, sends the mails due) every so many seconds in each
# worker; 0 turns the in-process scheduler off (run `gmg tick` from cron instead).
GMG_TICK_SECONDS = int(os.environ.get("GMG_TICK_SECONDS", "60"))

# -- uploads -----------------------------------------------------------------------------------

GMG_UPLOAD_MAX_BYTES = int(os.environ.get("GMG_UPLOAD_MAX_MB", "25")) * 1024 * 1024
# Bigger request bodies are refused before they are read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
GMG_PRIVATE_DIR = Path(os.environ.get("GMG_PRIVATE_DIR", DATA_DIR / "private")).resolve()
# Production behind nginx: downloads are handed to nginx by X-Accel-Redirect under this
# internal location (which maps to GMG_PRIVATE_DIR). Empty: Django sends the file itself.
GMG_X_ACCEL_REDIRECT_PREFIX = os.environ.get("GMG_X_ACCEL_REDIRECT_PREFIX", "").rstrip("/")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: the storage cannot produce a public address for a file.
        "OPTIONS": {"location": str(GMG_PRIVATE_DIR), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# The search engine behind gmg.repository.search; see docs/configuration.md.
# auto: tantivy on SQLite, the shared in-database engine on PostgreSQL.
GMG_SEARCH_ENGINE = os.environ.get("GMG_SEARCH_ENGINE", "auto")
_ENGINES = {"auto", "tantivy", "postgres", "sqlite"}
if GMG_SEARCH_ENGINE not in _ENGINES:
    raise ImproperlyConfigured(
        f"GMG_SEARCH_ENGINE={GMG_SEARCH_ENGINE!r} is not known "
        f"(known: {', '.join(sorted(_ENGINES))})"
    )
GMG_SEARCH_INDEX_DIR = Path(os.environ.get("GMG_SEARCH_INDEX_DIR", DATA_DIR / "search-index"))

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy: scripts only from this site (no inline script anywhere), no
# framing. Inline style attributes are allowed for the SVG charts matplotlib writes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("GMG_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("GMG_SSL_REDIRECT", "1") == "1"
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
else:
    SECURE_HSTS_SECONDS = 0
# HSTS for subdomains and preloading are the domain owner's decision (the platform may run
# on a subdomain of an organisation's domain), so Django's hints about them are silenced.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GMG_LOG_LEVEL", "WARNING")},
}
