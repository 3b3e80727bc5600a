"""Settings for the CPTS maturity portal.

Everything comes from the environment (django-environ) with safe local defaults:
without DATABASE_URL the portal runs on a SQLite file, without REDIS_URL Celery runs
tasks eagerly in-process. Production sets DJANGO_DEBUG=false, DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

import tempfile
from email.utils import parseaddr
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-only")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin, on a site that asks for the second factor (accounts.admin_site).
    "cpts_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "simple_history",
    "django_filters",
    "django_tables2",
    "django_celery_results",
    "mailing",
    "accounts",
    "territories",
    "questionnaire",
    "scoring",
    "campaigns",
    "dashboards",
    "exports",
    "improvement",
    "collegial",
    "privacy",
    "reports",
    # Top of the dependency order: seeds every app below it (`load_demo_data`).
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the second factor checked in this session (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "cpts_portal.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must come last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cpts_portal.urls"
WSGI_APPLICATION = "cpts_portal.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # An e-mail address (any case) or a username.
    "accounts.backends.EmailOrUsernameBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# People (README, "People and roles"). Activation links serve once and last this many days;
# password-reset links last PASSWORD_RESET_TIMEOUT seconds.
ACCOUNT_ACTIVATION_DAYS = env.int("ACCOUNT_ACTIVATION_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)
# The forgotten-password form sends at most this many messages an hour per address, and
# answers at most this many requests an hour per client IP (the page reads the same anyway).
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)
# Accounts without a login for this long are warned by e-mail, then deactivated this many days
# after the warning unless their owner logs in (beat task, daily).
ACCOUNT_INACTIVITY_WARNING_DAYS = env.int("ACCOUNT_INACTIVITY_WARNING_DAYS", default=730)
ACCOUNT_INACTIVITY_GRACE_DAYS = env.int("ACCOUNT_INACTIVITY_GRACE_DAYS", default=30)

# Number of trusted reverse-proxy hops in front of the app (compose: 1, the web proxy). The
# client address is the one the outermost trusted proxy saw (cpts_portal.network).
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)

# Brute-force protection: lock a username+address pair after 5 failures for one hour, and an
# address after AXES_ADDRESS_FAILURE_LIMIT failures across usernames (accounts.axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "cpts_portal.network.client_address"
AXES_HANDLER = "accounts.axes.PortalAxesHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# `Sophie@X.org` and `sophie@x.org` are one login: one failure counter.
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"

# Request size caps for the whole site; beyond them the answer is a French 400 (cpts_portal.errors).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # the body, files excepted
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads are streamed to a temporary file
CSRF_FAILURE_VIEW = "cpts_portal.errors.csrf_failure"
# Answers are changed only through the questionnaire's rules, never by reverting in the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Second factor (README, "Second factor"): FCPTS admins and staff (the Django admin) must enrol a
# TOTP app; ARS and CPAM users may. Not read from the environment: production cannot turn it off.
# The test settings turn it off so that tests of other features may log FCPTS users in with
# `force_login`; the second factor's own tests turn it back on.
OTP_REQUIRED_FOR_FCPTS = True
OTP_TOTP_ISSUER = "Portail CPTS"
# A wrong code doubles the wait before the next try (1 s, 2 s, 4 s…), per device (django-otp);
# wrong codes also count as failed logins for axes.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Collegial assessment (README, "Collegial assessment"): raters who have not finished are reminded
# this many days before the synthesis opens; individual ratings are deleted this many days after
# the response is submitted (default 12 months); a number question is divergent when its answers
# spread by more than this share of their median (and by more than 1).
COLLEGIAL_REMINDER_DAYS_BEFORE = env.int("COLLEGIAL_REMINDER_DAYS_BEFORE", default=3)
COLLEGIAL_RATING_RETENTION_DAYS = env.int("COLLEGIAL_RATING_RETENTION_DAYS", default=365)
COLLEGIAL_NUMBER_SPREAD = env.float("COLLEGIAL_NUMBER_SPREAD", default=0.2)

LANGUAGE_CODE = "fr"
# French for everyone, whatever the browser asks; strings are marked for translation.
LANGUAGES = [("fr", _("Français"))]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Files served at the site's root by WhiteNoise: /favicon.ico, which some clients ask for
# whatever the pages' <link rel="icon"> says.
WHITENOISE_ROOT = BASE_DIR / "webroot"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# Strict CSP: every asset is served from our own origin, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# E-mail (README, "E-mail"): EMAIL_URL in django-environ's syntax, e.g.
# smtp://user:password@host:587 or smtp+tls://… (STARTTLS), smtps://… (TLS); the console by
# default, so that `make run` prints every message.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Portail de maturité des CPTS <portail-cpts@localhost>"
)
# The address the data-protection and accessibility pages give for questions and requests
# (README, "Notices"); production sets the federation's real one.
PORTAL_CONTACT_EMAIL = (
    env("DJANGO_PORTAL_CONTACT_EMAIL", default="") or parseaddr(DEFAULT_FROM_EMAIL)[1]
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
REPLY_TO_EMAIL = env("DJANGO_REPLY_TO_EMAIL", default="")
# Absolute links in e-mails: the address users reach the portal at.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# A transient SMTP failure is retried after 1, 2, 4… times this many seconds (at most an hour
# apart), EMAIL_MAX_ATTEMPTS times in all; a refused address is never retried.
EMAIL_RETRY_BACKOFF = env.int("EMAIL_RETRY_BACKOFF", default=60)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=8)
# A message still pending this many seconds after it was recorded (its task lost with a broker
# that was down) is queued again by the reconciler (beat, every RECONCILE_INTERVAL).
EMAIL_REQUEUE_AFTER = env.int("EMAIL_REQUEUE_AFTER", default=900)

REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = "django-db"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat touches a heartbeat file at every wake-up (cpts_portal.celery.HeartbeatScheduler), at
# least once a minute, so that its container health check can tell a live beat from a hung one.
CELERY_BEAT_SCHEDULER = "cpts_portal.celery:HeartbeatScheduler"
# Beat's state goes to the temporary directory: the containers' user cannot write to /app.
CELERY_BEAT_SCHEDULE_FILENAME = str(Path(tempfile.gettempdir()) / "celerybeat-schedule")
CELERY_BEAT_MAX_LOOP_INTERVAL = 60
# A task a worker took but never finished (the worker was killed) goes back to the queue after
# the visibility timeout: far longer than the longest task (a rescore batch of 500 takes under a
# second, every campaign of the bench's large cohort exports in seconds), short enough to recover
# in minutes. Unacknowledged messages are looked for every 10 s. README, "Failures and
# recovery".
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": min(10, CELERY_VISIBILITY_TIMEOUT),
    "unacked_restore_throttle": 1,
}
# A worker holds one message at a time, so a killed one strands at most one; a prefork child
# that dies gives its task back instead of acknowledging it.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Sending a task while Redis is down fails within a second or two instead of hanging the
# request; the work is then done by the reconcilers below once Redis is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Beat tasks are idempotent. The reconcilers repair what a lost message left undone: scores of
# submitted responses and of reopened drafts, export jobs pending or stuck (README, "Failures
# and recovery"). Background export files are kept 7 days (exports.models.RETENTION).
RECONCILE_INTERVAL = env.float("RECONCILE_INTERVAL", default=60.0)
# Seconds: an export job still pending this long after it was queued lost its message (queued
# again); a running one whose progress has not moved this long lost its worker (started again).
# A job reports progress every 500 responses, within a second or two.
EXPORTS_JOB_PENDING_GRACE = env.int("EXPORTS_JOB_PENDING_GRACE", default=120)
EXPORTS_JOB_STALE_AFTER = env.int("EXPORTS_JOB_STALE_AFTER", default=120)
CELERY_BEAT_SCHEDULE = {
    # Opening and closing on their dates; idempotent, so running it hourly is harmless and
    # bounds the delay after midnight to an hour.
    # Reminders of the action plans' due dates (idempotent: one message per event).
    "send-plan-reminders": {
        "task": "improvement.tasks.send_plan_reminders",
        "schedule": 24 * 3600.0,
    },
    "campaigns-follow-calendar": {
        "task": "campaigns.tasks.follow_calendar",
        "schedule": 3600.0,
    },
    "campaigns-weekly-digest": {
        "task": "campaigns.tasks.send_weekly_digests",
        "schedule": crontab(hour=7, minute=30, day_of_week="mon"),
    },
    "campaigns-send-due-reminders": {
        "task": "campaigns.tasks.send_due_reminders",
        "schedule": 3600.0,
    },
    "purge-expired-exports": {
        "task": "exports.tasks.purge_expired_exports",
        "schedule": 3600.0,
    },
    "reconcile-scores": {
        "task": "scoring.tasks.reconcile_scores",
        "schedule": RECONCILE_INTERVAL,
    },
    "reconcile-export-jobs": {
        "task": "exports.tasks.reconcile_export_jobs",
        "schedule": RECONCILE_INTERVAL,
    },
    "process-inactive-accounts": {
        "task": "accounts.tasks.process_inactive_accounts",
        "schedule": 24 * 3600.0,
    },
    "collegial-send-rating-reminders": {
        "task": "collegial.tasks.send_rating_reminders",
        "schedule": 3600.0,
    },
    "collegial-delete-expired-ratings": {
        "task": "collegial.tasks.delete_expired_ratings",
        "schedule": 24 * 3600.0,
    },
    "requeue-pending-messages": {
        "task": "mailing.tasks.requeue_pending_messages",
        "schedule": RECONCILE_INTERVAL,
    },
}

# One handler, on the root logger. Django's default configuration gives the "django" logger a
# console handler of its own and lets it propagate too, which printed every line twice.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # WeasyPrint logs every layout step at INFO; its warnings (a refused URL) still show.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The container health check calls the app directly over plain HTTP, behind the proxy.
    SECURE_REDIRECT_EXEMPT = [r"^sante/$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
