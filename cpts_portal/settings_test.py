"""Test settings: the real settings in their local shape.

pytest-django turns DEBUG off at run time.

DATABASE_URL and REDIS_URL still come from the environment, so CI runs on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from cpts_portal.settings import *  # noqa: E402, F403

# Hashing demo and test passwords with PBKDF2 would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests of other features log FCPTS users in with `force_login`, which checks no second factor;
# tests/test_second_factor.py and the browser test of enrolment turn this back on.
OTP_REQUIRED_FOR_FCPTS = False

# Celery runs tasks in-process in tests. tests/test_scoring_worker.py turns this off and starts
# a real worker, so the broker is Redis even when REDIS_URL is unset (plain `pytest` locally).
# The worker itself is told otherwise (tests/celery_worker.py), so that what it queues (a retry)
# goes through the broker too instead of running inline.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "true") == "true"
CELERY_BROKER_URL = REDIS_URL or "redis://127.0.0.1:6379/0"  # noqa: F405

# That worker is another process: it can only see a SQLite test database kept in a file
# (pytest-django's default is in memory), one per test run so that runs never share it.
# PostgreSQL test databases are visible as they are.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    _artifacts = BASE_DIR / "test-artifacts"  # noqa: F405
    _artifacts.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(_artifacts / f"test-db-{os.getpid()}.sqlite3")
    }
