"""Django settings, read from environment variables with embedded defaults.

With ``EMBEDDED=1`` (what ``make run`` sets) the product runs on its own: SQLite under ``var/``,
Celery over kombu's ``filesystem://`` transport in ``var/broker/``, a secret key generated into
``var/``, plain http on 127.0.0.1, Slack and Jira off. Without it the process is a production one:
it refuses to start without ``SECRET_KEY`` and its security settings default to on (https only,
secure cookies, HSTS). Production also sets ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (the
Celery broker) and ``ALLOWED_HOSTS``.
"""

import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# The embedded demo (`make run`, `manage.py run_product` and the test suite): one machine, plain
# http on 127.0.0.1, files under var/. Off by default, so a deployment gets the safe settings.
EMBEDDED = env_bool("EMBEDDED", False)


def _secret_key() -> str:
    """The SECRET_KEY from the environment; in the embedded or DEBUG mode, one generated once
    and kept under var/. In production without one it stays empty: the processes that sign with
    it refuse to start (``config.secret_key``), while maintenance commands still run."""
    configured = env_str("SECRET_KEY")
    if configured or not (EMBEDDED or DEBUG):
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()  # empty: Django refuses it wherever it is read
SECRET_KEY_MISSING = not SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where the product's links lead (Slack's buttons, the digest). Production has no default: `check --deploy`
# requires an https one (config.checks).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if (EMBEDDED or DEBUG) else "")


def _proxy_ssl_header() -> tuple[str, str] | None:
    """``SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https``: the header, and its value, by
    which the TLS-terminating proxy in front says the request came over https. Unset: none."""
    raw = env_str("SECURE_PROXY_SSL_HEADER")
    if not raw:
        return None
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER={raw!r} is not 'HEADER,value', e.g. 'HTTP_X_FORWARDED_PROTO,https'."
        )
    return parts[0], parts[1]


# Security: on by default outside the embedded and DEBUG modes, which serve plain http on
# 127.0.0.1. Each can be overridden by its variable; `manage.py check --deploy` is clean on
# the defaults.
_SECURE = not (EMBEDDED or DEBUG)
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header()
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _SECURE)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _SECURE)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _SECURE)
# HSTS: one hour by default, so a mistaken https set-up is undone within the hour; raise it
# (e.g. to 31536000, a year) once https is known to work for the host.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600 if _SECURE else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _SECURE)
# The preload directive (check security.W021) only consents to inclusion in the browsers'
# preload list; nothing happens until someone submits the domain at hstspreload.org, which
# also requires SECURE_HSTS_SECONDS of at least a year. With the one-hour default it is inert.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _SECURE)
SECURE_CONTENT_TYPE_NOSNIFF = env_bool("SECURE_CONTENT_TYPE_NOSNIFF", True)
# Every page's Content-Security-Policy (config.security_headers). htmx and every asset are served
# from static/, so nothing inline and nothing from elsewhere is needed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'; object-src 'none'"
)
CONTENT_SECURITY_POLICY_BY_VIEW = {
    # The API's docs: drf-spectacular's Swagger UI page starts Swagger UI with an inline script and
    # an inline <style>, and Swagger UI styles its elements inline. It shows only the public
    # schema, to anyone, and takes no input into the page, so only here are inline scripts and
    # styles allowed; everything else of the strict policy holds.
    "api-docs": CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs page's assets, installed with the product, no CDN
    "axes",  # failed log-ins counted and locked out (config.login_throttle)
    "roadmap",
    "integrations",
    # Plug-ins and surfaces of the integrations app, each with its own AppConfig; their models keep
    # the integrations app's tables and migrations.
    "integrations.jira",
    "integrations.handovers",
    "integrations.jenkins",
    "integrations.stage",
    "integrations.api",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static/ itself (compressed, cache headers), so the product needs no CDN nor proxy config.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every page; private, no-store for signed-in users. Early, so it
    # also marks the answers the middlewares below make themselves (CSRF failure, lock-out, ...).
    "config.security_headers.SecurityHeadersMiddleware",
    # A NUL character anywhere in the path, query or form fields: 400 before any view reads it.
    "config.middleware.RefuseNulMiddleware",
    # /hooks/ (Jira, Jenkins, Slack): answered by the hook's view from here, none of the middlewares
    # below (no session, user, CSRF, messages for a machine's signed request).
    "config.middleware.HooksMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A session a magic link opened ends with the link, on every page and the API (one rule).
    "integrations.stage.middleware.MagicLinkSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # request.htmx: whether the request came from htmx (the HX-Request header), for partial answers.
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out log-in into the page that says so.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# Production keeps each process's connection for a minute instead of opening one per request
# (the bare view serves 3-5x the requests), and checks it before reuse so a database restart
# costs one reconnect, not an error. The embedded mode opens one per request: three processes
# share one SQLite file.
_PERSISTENT_CONNECTIONS = not (EMBEDDED or DEBUG)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'roadmap.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if _PERSISTENT_CONNECTIONS else 0, minimum=0),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", _PERSISTENT_CONNECTIONS),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in the embedded mode: wait for locks instead
    # of failing at once, and let readers proceed while one process writes. In WAL mode,
    # synchronous=NORMAL writes each commit to the WAL without waiting for the disk (fsync at
    # checkpoints only): a commit survives any crash of the product's processes (it is in the
    # operating system's hands), and only a power loss or an operating-system crash can roll back
    # the last commits, never corrupt the file. FULL's fsync per commit made every write, Jira's
    # webhook first, wait for the disk (~10 ms each).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Jira's webhook keeps its INSERT as a prepared statement of each connection, sent through libpq
    # (integrations/jira/views.py); every other query keeps Django's client-side binding, which
    # never prepares (psycopg would from a server-binding cursor's fifth run of a statement).
    # DATABASE_PREPARED_STATEMENTS=0 behind a pooler that cannot hold them (PgBouncer in
    # transaction mode before 1.21, or without max_prepared_statements): the webhook's INSERT is
    # then sent unnamed, parsed each time.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "prepare_threshold", 5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# One format for dates ("27 Nov 2026") and one for date-times ("27 Nov 2026, 21:05"), admin included:
# config/formats/en_GB/formats.py (a locale's own formats win over DATE_FORMAT and the like).
FORMAT_MODULE_PATH = ["config.formats"]
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
# The zone whose calendar decides "today" for deadlines and overdue days.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# TradingView's working calendar: the public holidays of a country (and region) of the `holidays`
# library, e.g. GB and ENG, and the company's own days off (ISO dates, comma separated). Its
# deadlines and days late skip them. Empty country: weekends only.
TRADINGVIEW_HOLIDAYS_COUNTRY = env_str("TRADINGVIEW_HOLIDAYS_COUNTRY", "")
TRADINGVIEW_HOLIDAYS_SUBDIVISION = env_str("TRADINGVIEW_HOLIDAYS_SUBDIVISION", "")
TRADINGVIEW_DAYS_OFF = env_list("TRADINGVIEW_DAYS_OFF", [])
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by whitenoise in every mode.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
# The embedded product serves static files straight from the repo; production runs collectstatic.
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG
if WHITENOISE_USE_FINDERS:
    # Never collected into; it exists so whitenoise does not warn about a missing folder.
    STATIC_ROOT = VAR_DIR / "staticfiles"
    STATIC_ROOT.mkdir(exist_ok=True)

# Password guessing (config.login_throttle, django-axes): AXES_FAILURE_LIMIT failed log-ins lock
# the account (from any address) and the address (for any account) for the cool-off; a success
# clears the account's own count. The site's log-in page and the admin's alike.
AUTHENTICATION_BACKENDS = ["config.login_throttle.ThrottledLogins", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=3)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A guess during the lock neither counts nor extends it: "try again in 15 minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "config.login_throttle.LoginAttempts"
AXES_LOCKOUT_CALLABLE = "config.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_throttle.client_address"
AXES_VERBOSE = False  # no banner at every start; lock-outs are still logged, usernames masked
# Behind the TLS proxy, the request header holding the caller's address (its right-most entry),
# e.g. HTTP_X_FORWARDED_FOR; unset: REMOTE_ADDR.
CLIENT_ADDRESS_HEADER = env_str("CLIENT_ADDRESS_HEADER")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "stage-home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    # Bearer first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the pages' session; CSRF on unsafe methods
    ],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api.permissions.SignedIn"],
    "DEFAULT_PARSER_CLASSES": ["integrations.api.parsers.JsonWithoutNul"],  # JSON; a NUL anywhere is a 400
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "integrations.api.negotiation.AcceptsAnything",
    "DEFAULT_PAGINATION_CLASS": "integrations.api.pagination.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.PerCallerThrottle"],
    "DEFAULT_SCHEMA_CLASS": "integrations.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TradingView integrations roadmap API",
    "DESCRIPTION": "Partners, integrations, their steps and hand-overs. Authenticate with "
    "`Authorization: Bearer <token>` (tokens are issued in the admin) or a signed-in session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.staff_only_fields",
    ],
}
# Requests per token (or per signed-in user) and period, e.g. "120/min"; read on every request.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "120/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE={API_THROTTLE_RATE!r} is not a rate; write e.g. 120/min or 5000/day."
    )

# The partner's stage page: how long a PM's magic link works.
MAGIC_LINK_DAYS = env_int("MAGIC_LINK_DAYS", 7, minimum=1)
# Hand-over URL checks. Private, loopback and link-local addresses are refused unless
# HANDOVER_CHECK_ALLOW_PRIVATE (the tests' servers run on 127.0.0.1; never set it in production).
HANDOVER_CHECK_TIMEOUT_SECONDS = env_int("HANDOVER_CHECK_TIMEOUT_SECONDS", 10, minimum=1)
# The whole check (name lookup, connection, TLS, the GET, the CORS preflight), however the partner's
# server trickles its answer; the worker runs it, and beat re-queues a check left pending past it.
HANDOVER_CHECK_DEADLINE_SECONDS = env_int("HANDOVER_CHECK_DEADLINE_SECONDS", 20, minimum=1)
HANDOVER_CHECK_ALLOW_PRIVATE = env_bool("HANDOVER_CHECK_ALLOW_PRIVATE", False)
# A CA bundle to trust besides the system's (the tests' own certificate authority).
HANDOVER_CHECK_CA_BUNDLE = env_str("HANDOVER_CHECK_CA_BUNDLE")
# The origins TradingView's trading terminal calls a broker from: its CORS must allow them.
TRADINGVIEW_ORIGINS = env_list("TRADINGVIEW_ORIGINS", ["https://www.tradingview.com"])

# Every handler redacts the token of magic-link and calendar-feed paths (config.log_redaction).
# Django's own "django" and "django.server" loggers are set here too, so that no handler of
# Django's default logging (which prints request paths) is left without the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "config.log_redaction.RedactTokens"},
        "client_errors_without_traceback": {"()": "config.quiet_refusals.ClientErrorsWithoutTraceback"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact_tokens"]},
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # Expected 403s and 404s: one line each, no traceback (server errors keep theirs).
        "django.request": {"handlers": [], "filters": ["client_errors_without_traceback"], "propagate": True},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Celery: Redis in production; otherwise kombu's filesystem transport, so that web, worker and
# beat can talk through a folder with no server running.
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")  # config/broker_folder.py
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
# The cache holds what every web process must share: API throttle counts and the Slack
# signatures already seen. Production shares it through Redis; the embedded mode (and the
# tests, whose parallel workers must not share counts) keeps it in each process.
CACHE_URL = env_str("CACHE_URL", "" if EMBEDDED else REDIS_URL)
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task running when the broker drops is stopped (its message cannot be acknowledged on the lost
# connection, and trying kills the worker with kombu 5.7); a delivery run stopped so lets go of its
# row first (notifications.tasks).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that drops is waited for, however long (Celery's default gives up after 100 tries and the
# worker exits); the consumer survives the drop itself (config/celery.py).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CONSUMER = "config.celery:BrokerLossTolerantConsumer"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 60, minimum=5)
# The stored standing (overdue days, forecast, delay split) moves with the calendar of each side:
# beat refreshes, every quarter of an hour (time zones differ from UTC by whole quarters), the
# running integrations for which a day began since, in TIME_ZONE or in the partner's zone; and
# every running integration once as it starts.
STANDING_REFRESH_MINUTES = "0,15,30,45"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "integrations.heartbeat", "schedule": HEARTBEAT_SECONDS},
    "refresh-standings": {
        "task": "integrations.refresh_standings",
        "schedule": crontab(minute=STANDING_REFRESH_MINUTES),
    },
}
# A heartbeat older than this many seconds shows as stale in the admin.
HEARTBEAT_STALE_AFTER = env_int("HEARTBEAT_STALE_AFTER", HEARTBEAT_SECONDS * 3, minimum=10)
# Hand-over URL checks left pending (message lost, worker killed) are queued again.
CELERY_BEAT_SCHEDULE["handover-checks-requeue"] = {"task": "integrations.handovers_requeue_checks", "schedule": 60}

# External systems, each off until configured.
JIRA_URL = env_str("JIRA_URL")
JIRA_USER = env_str("JIRA_USER")
JIRA_API_TOKEN = env_str("JIRA_API_TOKEN")
JIRA_ENABLED = bool(JIRA_URL and JIRA_USER and JIRA_API_TOKEN) and env_bool("JIRA_ENABLED", True)
# Webhooks are refused without a secret, unless a development setup says otherwise.
JIRA_WEBHOOK_SECRET = env_str("JIRA_WEBHOOK_SECRET")
JIRA_WEBHOOK_ALLOW_UNSIGNED = env_bool("JIRA_WEBHOOK_ALLOW_UNSIGNED", False)
JIRA_WEBHOOK_MAX_BYTES = env_int("JIRA_WEBHOOK_MAX_BYTES", 1_000_000, minimum=1_000)
JIRA_PULL_SECONDS = env_int("JIRA_PULL_SECONDS", 300, minimum=30)
# On PostgreSQL a delivery's commit waits for the disk unless the pull is there to bring back what
# a crash of the database's machine could lose in the moment before the flush (integrations/jira/views.py).
JIRA_WEBHOOK_WAIT_FOR_DISK = env_bool("JIRA_WEBHOOK_WAIT_FOR_DISK", not JIRA_ENABLED)
JIRA_TIMEOUT_SECONDS = env_int("JIRA_TIMEOUT_SECONDS", 10, minimum=1)
# Waiting and left-behind deliveries are picked up this often.
JIRA_SWEEP_SECONDS = env_int("JIRA_SWEEP_SECONDS", 60, minimum=5)
# The sweep always runs (it processes what webhooks stored); the pull only when Jira is configured.
CELERY_BEAT_SCHEDULE["jira-sweep"] = {"task": "integrations.jira_sweep", "schedule": JIRA_SWEEP_SECONDS}
if JIRA_ENABLED:
    CELERY_BEAT_SCHEDULE["jira-pull"] = {"task": "integrations.jira_pull", "schedule": JIRA_PULL_SECONDS}
# Jenkins' Notification plugin: bodies larger than this are refused (its JSON may carry log lines).
JENKINS_WEBHOOK_MAX_BYTES = env_int("JENKINS_WEBHOOK_MAX_BYTES", 262_144, minimum=1_000)
JENKINS_SWEEP_SECONDS = env_int("JENKINS_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE["jenkins-sweep"] = {"task": "integrations.jenkins_sweep", "schedule": JENKINS_SWEEP_SECONDS}
SLACK_BOT_TOKEN = env_str("SLACK_BOT_TOKEN")
SLACK_ENABLED = bool(SLACK_BOT_TOKEN) and env_bool("SLACK_ENABLED", True)
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET")
SLACK_INTERNAL_CHANNEL = env_str("SLACK_INTERNAL_CHANNEL")
SLACK_API_URL = env_str("SLACK_API_URL", "https://slack.com/api/")
SLACK_TIMEOUT_SECONDS = env_int("SLACK_TIMEOUT_SECONDS", 10, minimum=1)
# The hosts a click's response_url may point at: a forged payload cannot make the product post elsewhere.
SLACK_RESPONSE_URL_HOSTS = [host.lower() for host in env_list("SLACK_RESPONSE_URL_HOSTS", ["hooks.slack.com"])]
# Delivery of due outbox rows, and the reminders (hourly, each zone at its own REMINDERS_LOCAL_HOUR).
OUTBOX_DELIVER_SECONDS = env_int("OUTBOX_DELIVER_SECONDS", 30, minimum=5)
# Posts to different channels at once in a delivery run (each channel still one message a second).
OUTBOX_DELIVERY_THREADS = env_int("OUTBOX_DELIVERY_THREADS", 8, minimum=1)
# Reminders are planned at this hour of each recipient's own day (the partner's zone, TIME_ZONE for
# TradingView's channel): beat sweeps hourly, and each zone's day is planned once its hour is reached.
REMINDERS_LOCAL_HOUR = min(env_int("REMINDERS_LOCAL_HOUR", 9, minimum=0), 23)
# The PM's lead, a Slack user id (U...): named in the internal channel when a TradingView task is late past the
# reminder policy's escalation (empty: no escalation of TradingView's tasks).
TRADINGVIEW_LEAD_SLACK_ID = env_str("TRADINGVIEW_LEAD_SLACK_ID")
CELERY_BEAT_SCHEDULE["deliver-outbox"] = {"task": "notifications.deliver_outbox", "schedule": OUTBOX_DELIVER_SECONDS}
CELERY_BEAT_SCHEDULE["plan-reminders"] = {"task": "notifications.plan_reminders", "schedule": crontab(minute=15)}
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "integrations@tradingview.example")

# Demo login created by `manage.py seed_demo`.
DEMO_USERNAME = env_str("DEMO_USERNAME", "demo")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "tradingview-demo")
# A demo partner user (same password) who sees one demo partner's stage page.
DEMO_PARTNER_USERNAME = env_str("DEMO_PARTNER_USERNAME", "partner")
