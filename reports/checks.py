"""`manage.py check` says when WeasyPrint cannot run (its Debian libraries are missing)."""

from django.core.checks import Warning, register

DEBIAN_PACKAGES = (
    "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core"
)


@register()
def weasyprint_loads(app_configs, **kwargs):
    try:
        import weasyprint  # noqa: F401
    except OSError as error:
        return [
            Warning(
                f"WeasyPrint cannot load its libraries ({error}): PDF reports will fail.",
                hint=f"apt-get install {DEBIAN_PACKAGES}",
                id="reports.W001",
            )
        ]
    return []
