"""Test settings: the real settings in their local shape.

pytest-django turns DEBUG off at run time.

DATABASE_URL and REDIS_URL still come from the environment, so CI runs on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from cpts_portal.settings import *  # noqa: E402, F403

# Hashing demo and test passwords with PBKDF2 would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
