"""HTML to PDF with WeasyPrint, reading nothing but the project's static files.

The report's HTML holds names and free text typed by CPTS teams. Django escapes them, and the
URL fetcher is the second wall: whatever a document asks for, it answers only URLs under
STATIC_URL, from STATIC_ROOT or the static finders' directories, and refuses every other URL
(another file, http, https, ftp, data…) without opening it. Fonts come from fontconfig
(DejaVu, Debian's fonts-dejavu-core), not from URLs.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

# WeasyPrint is imported when a PDF is rendered, not with this module: without Pango the
# portal still starts, the report page says the rendering failed, and `manage.py check`
# names the missing Debian packages (reports.checks).

# Documents are parsed against this base: `{% static %}` paths become file:///static/…, which
# the fetcher maps to static files (never to the root of the disk).
BASE_URL = "file:///"
STYLESHEET = "css/report.css"
PDF_VARIANT = "pdf/ua-1"  # tagged PDF for accessibility (PDF/UA-1), text extractable


class URLRefused(ValueError):
    """A document asked for something that is not one of the project's static files."""


def static_file(url: str) -> Path:
    """The static file a `file:///static/…` URL names, or URLRefused."""
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if parts.scheme != "file" or parts.netloc or not parts.path.startswith(prefix):
        raise URLRefused(f"URL refusée (hors fichiers statiques) : {url[:200]}")
    relative = unquote(parts.path[len(prefix) :])
    if not relative or posixpath.normpath(relative) != relative or relative.startswith(".."):
        raise URLRefused(f"URL refusée (chemin invalide) : {url[:200]}")
    for root, path in _candidates(relative):
        resolved = path.resolve()
        if resolved.is_file() and resolved.is_relative_to(root.resolve()):
            return resolved
    raise URLRefused(f"URL refusée (fichier statique introuvable) : {url[:200]}")


def _candidates(relative: str):
    """(allowed root, path) pairs: STATIC_ROOT (collected, hashed names), then the finders."""
    if settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT)
        yield root, root / relative
    found = finders.find(relative)
    if found:
        path = Path(found)
        # The finder's own directory for this file is the allowed root: `relative` has no
        # `..`, so the path sits under it unless a symlink points elsewhere.
        yield Path(str(path)[: -len(relative)]), path


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int


def render(html: str) -> Rendered:
    import weasyprint

    from reports.fetcher import StaticFilesOnly

    document = weasyprint.HTML(
        string=html, base_url=BASE_URL, url_fetcher=StaticFilesOnly()
    ).render()
    return Rendered(pdf=document.write_pdf(pdf_variant=PDF_VARIANT), pages=len(document.pages))


def fingerprint(html: str) -> str:
    """The cache key of a document: its HTML, the stylesheet it links and the renderer."""
    digest = hashlib.sha256()
    for part in (version("weasyprint"), PDF_VARIANT, static_file_bytes(STYLESHEET), html):
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def static_file_bytes(relative: str) -> bytes:
    return static_file(BASE_URL + settings.STATIC_URL.strip("/") + "/" + relative).read_bytes()
