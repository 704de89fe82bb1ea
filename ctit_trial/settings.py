"""Project settings, read from the environment (see .env.example and docs/adr/0002)."""

import os
from datetime import timedelta
from pathlib import Path

import environ

from ctit_trial.data_dirs import data_dir
from ctit_trial.environment import env_file_load, env_file_path, production_refusals, refuse_unsafe_production
from ctit_trial.observability.error_reports import error_reports_start
from ctit_trial.observability.logs import logging_config
from ctit_trial.secret_key import secret_key_from_environment

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The checkout's .env, if any; CTIT_ENV_FILE names another file, or none when empty (tests). ctit_trial/environment.py
env_file_load(env_file_path(os.environ, BASE_DIR))
# Local state (SQLite, file cache and broker, mail files, beat schedule, static files): var/ of the checkout by default.
VAR_DIR = Path(env.str("CTIT_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A real key is required with DEBUG off; the development key only with DEBUG on or DJANGO_ALLOW_DEV_SECRET_KEY=1
# (make test, pytest). `check --deploy` refuses it and short keys too (ctit_trial/checks.py, docs/adr/0012).
SECRET_KEY = secret_key_from_environment(env, debug=DEBUG)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Electronic signatures are HMAC-SHA256 under this key (empty: derived from SECRET_KEY); see docs/adr/0010.
SIGNATURE_KEY = env.str("SIGNATURE_KEY", default="")
SIGNATURE_KEY_FALLBACKS = env.list("SIGNATURE_KEY_FALLBACKS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "ctit_trial.security.admin_apps.TrialAdminConfig",  # django.contrib.admin with the second-factor login (ADR 9)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ctit_trial",
    "ctit_trial.security",
    "enrollment",
    "dosing",
    "safety",
]

MIDDLEWARE = [
    "ctit_trial.observability.logs.RequestIdMiddleware",  # first: every log line of the request has its id
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "ctit_trial.middleware.RequestLimitsMiddleware",  # body size, query strings and paths (before any view)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ctit_trial.security.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ctit_trial.middleware.AdminTimeZoneMiddleware",  # admin pages in site-local time
    "ctit_trial.security.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # turns an admin-login lockout into its 429 page
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # last: request latency by view and method
]

ROOT_URLCONF = "ctit_trial.urls"
WSGI_APPLICATION = "ctit_trial.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [data_dir("templates")],  # ctit_trial/templates in the installed wheel, templates/ in the checkout
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

# --- Database: SQLite for `make run`, PostgreSQL via DATABASE_URL in CI and production.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
# Persistent connections (seconds; 0 closes each after its request), checked before reuse after a database restart.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction pooling (README: PgBouncer): each transaction may run on another server connection,
# so nothing may outlive one — no server-side cursors; psycopg 3's client-side binding (Django's default) prepares
# no statements, and the service sets no session state, takes no advisory lock and does not LISTEN.
if env.bool("DJANGO_DB_TRANSACTION_POOLING", default=False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login protection (docs/adr/0009): lockout (django-axes), second factor (django-otp), tokens, sessions.
# The client address is REMOTE_ADDR unless that many reverse proxies of ours append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username + address before the password
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("CTIT_LOCKOUT_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("CTIT_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CTIT_LOCKOUT_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [
    parameters.split("+") for parameters in env.list("CTIT_LOCKOUT_BY", default=["username+ip_address"])
]
AXES_CLIENT_IP_CALLABLE = "ctit_trial.security.client.client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed login and signature, kept (who, when, from where, on what)
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_LOCKOUT_CALLABLE = "ctit_trial.security.attempts.lockout_response"
CTIT_REQUIRE_2FA = env.bool("CTIT_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="XJ-MK-002 trial")
API_TOKEN_TTL = timedelta(hours=env.float("API_TOKEN_TTL_HOURS", default=12))
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("DJANGO_SESSION_IDLE_MINUTES", default=30))

# --- Time: every instant is stored in UTC; site-local days come from Site.time_zone (enrollment.timeutils).
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["ctit_trial.formats"]  # ISO dates and a 24-hour clock on every page (ctit_trial/formats)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Redis (optional): the Celery broker and the shared cache when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
# Throttle counters: Redis when set (shared by every web process), given up fast when Redis is down (ADR 9).
_fast_redis = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "retry_on_timeout": False}
THROTTLE_FALLBACK = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-fallback"}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
        "throttle": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
    CACHES["throttle"]["OPTIONS"] = _fast_redis
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        },
        "throttle": THROTTLE_FALLBACK,
    }
CACHES["throttle-fallback"] = THROTTLE_FALLBACK
THROTTLE_REDIS_RETRY_SECONDS = env.int("THROTTLE_REDIS_RETRY_SECONDS", default=30)  # local counters meanwhile

# --- Celery (ctit_trial/celery.py reads every CELERY_* setting).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # No far-future ETA tasks are used (reminders are swept), so a short visibility timeout is safe.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "ctit_trial.tasks.worker_heartbeat", "schedule": 30.0},
    # Reminders (docs/adr/0008): the sweep writes what is due; the dispatch re-hands pending rows to the broker.
    "notifications-sweep": {"task": "safety.tasks.notifications_sweep", "schedule": 300.0},
    "notifications-dispatch": {"task": "safety.tasks.notifications_dispatch", "schedule": 60.0},
}
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env.int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", default=120)

# --- Reminder delivery (safety/services/delivery.py). A row still `sending` after the timeout was left by a
# stopped worker and becomes `uncertain` (longer than CELERY_TASK_TIME_LIMIT, so a live send is never declared dead).
NOTIFICATION_SENDING_TIMEOUT_SECONDS = env.int("NOTIFICATION_SENDING_TIMEOUT_SECONDS", default=900)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=60)  # doubles per attempt
NOTIFICATION_RETRY_MAX_SECONDS = env.int("NOTIFICATION_RETRY_MAX_SECONDS", default=3600)
NOTIFICATION_REDISPATCH_SECONDS = env.int("NOTIFICATION_REDISPATCH_SECONDS", default=300)  # a task lost in the broker
NOTIFICATION_DISPATCH_BATCH = env.int("NOTIFICATION_DISPATCH_BATCH", default=500)

# --- Email: files in var/mail by default; SMTP in production via EMAIL_URL (smtp+tls://user:pass@host:587).
_email = env.email_url("EMAIL_URL", default="filemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="XJ-MK-002 trial <no-reply@ctit-trial.local>")
EMAIL_TIMEOUT = 20

# --- REST API
REST_FRAMEWORK = {
    # Token first: its `WWW-Authenticate: Token` header makes missing or bad credentials a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ctit_trial.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ctit_trial.api.permissions.RoleModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "ctit_trial.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "ctit_trial.api.throttling.AnonThrottle",
        "ctit_trial.api.throttling.UserThrottle",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "auth": env.str("API_THROTTLE_AUTH", default="10/minute"),
    },
    "EXCEPTION_HANDLER": "ctit_trial.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["ctit_trial.api.parsers.JSONParser"],  # JSON only: depth and text limits
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_MAX_PAGE_SIZE = 100
# --- Input limits (ctit_trial/api/parsers.py, ctit_trial/middleware.py): a larger API body is a 413,
# deeper JSON or a longer text (any string in a body or query) a 400 naming the field.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
API_MAX_JSON_DEPTH = 32
API_MAX_STRING_LENGTH = 10_000

SPECTACULAR_SETTINGS = {
    "TITLE": "XJ-MK-002 dose-escalation cohort service",
    "DESCRIPTION": "REST API for site investigators of NCT07110090. The trial rules it enforces, and the "
    "configuration key that sets each value, are described in the service's `docs/protocol.md` (Appendix A: the "
    'screening document). Errors have the shape `{"detail": "...", "errors": {"field": ["message"]}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ctit_trial.api.schema.document_error_responses",
    ],
}

# --- Audit: history rows can be read, never reverted or edited through the application.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Production hardening: on whenever DEBUG is off (`manage.py check --deploy` passes with no warnings).
# Behind our TLS proxy (which sets X-Forwarded-Proto, replacing the client's), a request it received over https
# is secure; with no proxy of ours the header is the client's own and is not trusted.
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# DEBUG off is production, except a test run (DJANGO_ALLOW_DEV_SECRET_KEY=1: make test, pytest, collectstatic at
# image build): then each unsafe or missing value below stops the process, naming its variable.
if not DEBUG and not env.bool("DJANGO_ALLOW_DEV_SECRET_KEY", default=False):
    refuse_unsafe_production(
        production_refusals(
            os.environ,
            allowed_hosts=ALLOWED_HOSTS,
            email_backend=EMAIL_BACKEND,
            database_engine=DATABASES["default"]["ENGINE"],
        )
    )
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^metrics$"]  # probes and the scraper, inside the network
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 3600)

# --- Observability (ctit_trial/observability, docs/adr/0018): JSON log lines with the request id, user and sites;
# Prometheus metrics at /metrics for a scraper with METRICS_TOKEN (and on CELERY_METRICS_PORT in a worker);
# error reports to Sentry when SENTRY_DSN is set.
LOGGING = logging_config(
    json=env.bool("DJANGO_LOG_JSON", default=not DEBUG), level=env.str("DJANGO_LOG_LEVEL", default="INFO")
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING too
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
if env.str("SENTRY_DSN", default=""):
    error_reports_start(
        dsn=env.str("SENTRY_DSN"),
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# CI sets this so that tests needing PostgreSQL or Redis fail instead of skipping.
CI_REQUIRE_SERVICES = env.bool("CTIT_REQUIRE_SERVICES", default=False)
