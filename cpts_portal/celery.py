import os
import tempfile
import time
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpts_portal.settings")

app = Celery("cpts_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

BEAT_HEARTBEAT_FILE = Path(tempfile.gettempdir()) / "celerybeat-heartbeat"


class HeartbeatScheduler(PersistentScheduler):
    """The default scheduler, touching a heartbeat file after every tick that did not fail.

    Beat wakes up at least every `beat_max_loop_interval` seconds, so a stale file means a beat
    that is hung or keeps failing; `python -m cpts_portal.beat_health` reads it."""

    def tick(self, *args, **kwargs):
        delay = super().tick(*args, **kwargs)
        BEAT_HEARTBEAT_FILE.touch()
        return delay


def beat_heartbeat_age() -> float | None:
    """Seconds since beat's last tick, None if it never ticked."""
    try:
        return time.time() - BEAT_HEARTBEAT_FILE.stat().st_mtime
    except FileNotFoundError:
        return None
