"""Health check of the beat container: exit 0 while beat ticks, 1 otherwise.

Run as `python -m cpts_portal.beat_health`. Beat ticks at least every
CELERY_BEAT_MAX_LOOP_INTERVAL (60 s); three missed ticks make it unhealthy."""

import sys

from cpts_portal.celery import beat_heartbeat_age

MAX_AGE_SECONDS = 180


def main() -> int:
    age = beat_heartbeat_age()
    if age is None:
        print("beat has not ticked yet", file=sys.stderr)
        return 1
    if age > MAX_AGE_SECONDS:
        print(f"beat last ticked {age:.0f} s ago", file=sys.stderr)
        return 1
    print(f"beat ticked {age:.0f} s ago")
    return 0


if __name__ == "__main__":
    sys.exit(main())
