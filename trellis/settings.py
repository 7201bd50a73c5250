"""Trellis settings: every environment variable is read here and nowhere else.

The README's configuration table lists the same variables; keep them in step.
"""

import os
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in _env(name).split(",") if item.strip()]


def _fernet_keys(name: str) -> list[str]:
    """Read comma-separated Fernet keys, refusing at start-up any that is not one."""
    keys = _env_list(name)
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise SystemExit(
                f"{name}: key {position} is not a Fernet key "
                "(32 bytes in URL-safe base64)"
            ) from exc
    return keys


def _networks(name: str) -> list[IPv4Network | IPv6Network]:
    """Read comma-separated addresses and networks (CIDR) into networks."""
    networks = []
    for item in _env_list(name):
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError as exc:
            raise SystemExit(
                f"{name}: {item!r} is not an IP address or network"
            ) from exc
    return networks


def _cache(url: str, prefix: str) -> dict[str, object]:
    """Answer the cache for TRELLIS_CACHE_URL: Redis, or a table in the database."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    if url:
        raise SystemExit(f"TRELLIS_CACHE_URL must be redis://... or empty, not {url!r}")
    # Culling drops arbitrary rows once MAX_ENTRIES is passed; the limit is
    # high so that the portal's counters survive an attack from many addresses.
    return {
        "BACKEND": "trellis.core.cache.DatabaseCache",
        "LOCATION": "trellis_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }


def _private_folder(path: Path) -> Path:
    """Create the data folder readable by the service user only.

    The database in it holds the push certificate's key and API tokens; a
    folder others cannot enter keeps every file in it private, whatever the
    umask gave the file itself.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _secret_key(data_dir: Path) -> str:
    """Read TRELLIS_SECRET_KEY, or a key generated once and kept in the data folder."""
    configured = _env("TRELLIS_SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


BASE_DIR = Path(__file__).resolve().parent.parent

# Where the SQLite database, the certificate authority and other keys live.
TRELLIS_DATA_DIR = _private_folder(Path(_env("TRELLIS_DATA_DIR", "./var")).resolve())

# The public address written into enrollment profiles.
TRELLIS_BASE_URL = _env("TRELLIS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Where `make run` listens.
TRELLIS_LISTEN = _env("TRELLIS_LISTEN", "127.0.0.1:8000")

TRELLIS_ADMIN_USER = _env("TRELLIS_ADMIN_USER", "admin")
TRELLIS_ADMIN_PASSWORD = _env("TRELLIS_ADMIN_PASSWORD")

# The organisation name shown in enrollment profiles and on the portal.
TRELLIS_ORGANIZATION = _env("TRELLIS_ORGANIZATION", "Trellis")

# How long a downloaded enrollment profile stays installable.
TRELLIS_ENROLLMENT_SESSION_HOURS = _env_int("TRELLIS_ENROLLMENT_SESSION_HOURS", 24)

# Validity of device identity certificates issued over SCEP.
TRELLIS_DEVICE_CERT_DAYS = _env_int("TRELLIS_DEVICE_CERT_DAYS", 365)

# Validity of the certificate authority created on first start.
TRELLIS_CA_DAYS = _env_int("TRELLIS_CA_DAYS", 3650)

# Number of web worker processes and threads per process for `make run`.
TRELLIS_WEB_WORKERS = _env_int("TRELLIS_WEB_WORKERS", 2)
TRELLIS_WEB_THREADS = _env_int("TRELLIS_WEB_THREADS", 8)

# Device identities are renewed this many days before they expire.
TRELLIS_IDENTITY_RENEWAL_DAYS = _env_int("TRELLIS_IDENTITY_RENEWAL_DAYS", 30)

# Commands not answered after this many days expire; one delivered this many
# times without an answer stops blocking the queue.
TRELLIS_COMMAND_EXPIRY_DAYS = _env_int("TRELLIS_COMMAND_EXPIRY_DAYS", 30)
TRELLIS_COMMAND_MAX_ATTEMPTS = _env_int("TRELLIS_COMMAND_MAX_ATTEMPTS", 5)
# A command sent but not answered is sent again only after this long.
TRELLIS_COMMAND_REDELIVERY_SECONDS = _env_int("TRELLIS_COMMAND_REDELIVERY_SECONDS", 30)

# The largest command result accepted (an application list of tens of
# thousands of apps is tens of MiB of XML).
TRELLIS_RESULT_MAX_MB = _env_int("TRELLIS_RESULT_MAX_MB", 64)

# Apple Push: the provider API's address (tests point it at a local stand-in),
# the CA file that authenticates it (empty: the system's), and delivery knobs.
TRELLIS_APNS_URL = _env("TRELLIS_APNS_URL", "https://api.push.apple.com").rstrip("/")
TRELLIS_APNS_CA_FILE = _env("TRELLIS_APNS_CA_FILE")
TRELLIS_APNS_EXPIRATION_SECONDS = _env_int("TRELLIS_APNS_EXPIRATION_SECONDS", 7 * 86400)
TRELLIS_APNS_CONCURRENCY = _env_int("TRELLIS_APNS_CONCURRENCY", 100)
TRELLIS_APNS_RETRIES = _env_int("TRELLIS_APNS_RETRIES", 4)
# Commands queued within this window share one push.
TRELLIS_PUSH_COALESCE_SECONDS = float(_env("TRELLIS_PUSH_COALESCE_SECONDS", "1"))
# Devices with commands waiting are pushed again after this many minutes.
TRELLIS_REPUSH_MINUTES = _env_int("TRELLIS_REPUSH_MINUTES", 30)
# A device pushed but silent for this long is shown as unresponsive.
TRELLIS_UNRESPONSIVE_HOURS = _env_int("TRELLIS_UNRESPONSIVE_HOURS", 72)
# Warn about the push certificate's expiry from this many days before it.
TRELLIS_PUSH_WARNING_DAYS = _env_int("TRELLIS_PUSH_WARNING_DAYS", 30)

# Throttling of wrong enrollment codes: past a limit, wrong codes are answered
# 429 (valid codes never are; see trellis/enrollment/views.py). 10 per address
# in 10 minutes leaves room for a class or an office behind one address to
# mistype now and then, while a script there is answered 429 from its
# eleventh guess on. 200 across the portal in 10 minutes (one every three
# seconds) is far beyond honest typing errors even on a day of mass
# enrollment, and trips when many addresses guess together. 0 switches a
# limit off.
TRELLIS_PORTAL_FAILURES_PER_ADDRESS = _env_int(
    "TRELLIS_PORTAL_FAILURES_PER_ADDRESS", 10
)
TRELLIS_PORTAL_FAILURES_TOTAL = _env_int("TRELLIS_PORTAL_FAILURES_TOTAL", 200)
TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS = max(
    1, _env_int("TRELLIS_PORTAL_FAILURE_WINDOW_SECONDS", 600)
)

# Throttling of failed admin sign-ins, per client address (IPv6 per /64):
# past the limit, the admin sign-in form answers 429 until the window ends.
# Counted per address only, so that nobody can lock an admin out by failing
# with the admin's name from elsewhere. 0 switches the limit off.
TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS = _env_int(
    "TRELLIS_ADMIN_LOGIN_FAILURES_PER_ADDRESS", 10
)
TRELLIS_ADMIN_LOGIN_WINDOW_SECONDS = max(
    1, _env_int("TRELLIS_ADMIN_LOGIN_WINDOW_SECONDS", 900)
)

# Where counters shared by the web workers live: redis://… or, when empty, a
# table in the database (`manage.py createcachetable`, run by `make run`).
TRELLIS_CACHE_URL = _env("TRELLIS_CACHE_URL")
# Keeps apart the keys of several Trellis instances sharing one Redis.
TRELLIS_CACHE_KEY_PREFIX = _env("TRELLIS_CACHE_KEY_PREFIX", "trellis")
CACHES = {"default": _cache(TRELLIS_CACHE_URL, TRELLIS_CACHE_KEY_PREFIX)}

# Background work: a Celery broker (redis://… or amqp://…), or empty for the
# embedded runner inside the web workers.
TRELLIS_TASK_BROKER_URL = _env("TRELLIS_TASK_BROKER_URL")
TRELLIS_TASK_QUEUE = _env("TRELLIS_TASK_QUEUE", "trellis")
# Run background work at once, in the caller (tests).
TRELLIS_TASKS_EAGER = _env_bool("TRELLIS_TASKS_EAGER", False)

# Where admin notifications (push certificate expiry) go, and how mail is sent.
TRELLIS_ADMIN_EMAILS = [
    a.strip() for a in _env("TRELLIS_ADMIN_EMAILS").split(",") if a.strip()
]
EMAIL_HOST = _env("TRELLIS_EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("TRELLIS_EMAIL_PORT", 25)
EMAIL_HOST_USER = _env("TRELLIS_EMAIL_USER")
EMAIL_HOST_PASSWORD = _env("TRELLIS_EMAIL_PASSWORD")
EMAIL_USE_TLS = _env_bool("TRELLIS_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = _env("TRELLIS_EMAIL_FROM", "trellis@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Keys that encrypt secrets at rest (the CA, profile-signing and push keys):
# the first encrypts, every one decrypts. Empty: a key generated into the
# data folder (see trellis/core/sealing.py).
TRELLIS_SECRET_KEYS = _fernet_keys("TRELLIS_SECRET_KEYS")

# Reverse proxies Trellis believes (addresses or networks): their
# X-Forwarded-For names the client, and a TLS-terminating one may pass the
# device's client certificate in TRELLIS_CLIENT_CERT_HEADER (empty: off).
TRELLIS_TRUSTED_PROXIES = _networks("TRELLIS_TRUSTED_PROXIES")
TRELLIS_CLIENT_CERT_HEADER = _env("TRELLIS_CLIENT_CERT_HEADER")

DEBUG = _env_bool("TRELLIS_DEBUG", False)

SECRET_KEY = _secret_key(TRELLIS_DATA_DIR)

_base_host = urlsplit(TRELLIS_BASE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = sorted(
    {_base_host, "127.0.0.1", "localhost", "[::1]"}
    | {h.strip() for h in _env("TRELLIS_ALLOWED_HOSTS").split(",") if h.strip()}
)
CSRF_TRUSTED_ORIGINS = [TRELLIS_BASE_URL]
_secure = TRELLIS_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
# The admin's forms carry the CSRF token; no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
# A year of HTTPS-only once the public address is https. Subdomains are left
# alone: they may be other services of the organisation, not Trellis's.
SECURE_HSTS_SECONDS = 31_536_000 if _secure else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "trellis.core.admin_config.TrellisAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "trellis.core",
    "trellis.audit",
    "trellis.pki",
    "trellis.apns",
    "trellis.blueprints",
    "trellis.library",
    "trellis.enrollment",
    "trellis.scep",
    "trellis.mdm",
    "trellis.simulator",
    "trellis.tasks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "trellis.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trellis.core.middleware.ProtocolErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "trellis.urls"
WSGI_APPLICATION = "trellis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "trellis" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trellis.apns.context.push_certificate_warning",
            ],
        },
    },
]

# SQLite under the data folder unless DATABASE_URL names another database.
# Connections are kept open between requests: check-in and connect are the
# hot path and must not pay for a new connection each time.
DATABASE_URL = _env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=600, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(TRELLIS_DATA_DIR / "trellis.sqlite3"),
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = TRELLIS_DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve app static files straight from their folders when not collected (tests).
WHITENOISE_USE_FINDERS = True

# The most any request body may hold in memory (a library profile is at most
# 5 MiB). Device answers may be larger: the connect endpoint reads those
# itself, under TRELLIS_RESULT_MAX_MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["trellis.core.permissions.AdminRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "trellis.core.api.exception_handler",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "keyvalue": {
            "()": "trellis.core.logs.KeyValueFormatter",
            "format": "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        },
    },
    "filters": {
        "without_traceback": {"()": "trellis.core.logs.WithoutTraceback"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "keyvalue"},
        "brief": {
            "class": "logging.StreamHandler",
            "formatter": "keyvalue",
            "filters": ["without_traceback"],
        },
    },
    "root": {"handlers": ["console"], "level": _env("TRELLIS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.security": {"handlers": ["brief"], "propagate": False},
        # Whatever the root level, these never log what would carry secrets:
        # SQL parameters (push magic, tokens, sealed keys), request addresses
        # (APNs paths end in the device's push token) and HTTP/2 headers.
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "INFO"},
        "hpack": {"level": "WARNING"},
        "h2": {"level": "WARNING"},
    },
}
