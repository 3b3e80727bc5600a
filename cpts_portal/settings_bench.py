"""Settings for `python manage.py bench`: production settings on a throw-away PostgreSQL database.

The bench measures the code as it runs in production (DEBUG off, the same middleware), so this
module changes only what a local, plain-HTTP, single-machine run needs: its own database
(created and dropped by the command), no HTTPS redirect or secure-only cookies (the load
generator speaks plain HTTP to 127.0.0.1), static files without a collected manifest, and a
urlconf that adds the bare baseline view to the production URLs.
"""

import os
import warnings

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-in-production")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

from cpts_portal.settings import *  # noqa: E402, F403

BENCH_DATABASE_URL = env(  # noqa: F405
    "BENCH_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cpts_bench"
)
DATABASES = {"default": env.db_url_config(BENCH_DATABASE_URL)}  # noqa: F405
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = 0

# The bench app ships `bench` and a command that drops its database: never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405
ROOT_URLCONF = "benchmarks.urls"
# The overview measure requests the page in-process with Django's test client.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Scores are computed in-process, as `make run` does; the bench measures the work, not a broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://localhost/"

# Whitenoise warns that STATIC_ROOT was never collected; the bench serves no static file.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
