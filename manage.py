#!/usr/bin/env python
import os
import sys


def main() -> None:
    # `bench` comes with the benchmarks app, which only the bench settings install (it drops
    # databases): `python manage.py bench` picks them, unless settings are given explicitly.
    bench = sys.argv[1:2] == ["bench"]
    default = "cpts_portal.settings_bench" if bench else "cpts_portal.settings"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
