"""Log lines are printed once, under `make run` (DEBUG on) as in production (DEBUG off)."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

EMIT = (
    "import django, logging; django.setup(); "
    "logging.getLogger('django.request').warning('one-line-marker')"
)


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_django_log_line_is_printed_once(debug):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings",
        "DJANGO_DEBUG": debug,
        "DJANGO_SECRET_KEY": "logging-test-secret-key",
    }
    result = subprocess.run(
        [sys.executable, "-c", EMIT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count("one-line-marker") == 1
