"""The bench's PDF lines: one CPTS's report, and a ZIP bundle of many, against WeasyPrint
rendering a minimal one-page document set in the same fonts, in the same run.

Reports are rendered cold (nothing cached: each response once) into a temporary MEDIA_ROOT.
Timings are taken without tracemalloc (it slows WeasyPrint's Python a lot) but with the growth
of the process's resident set (Pango's and HarfBuzz's C allocations too); peak Python memory
comes from separate runs under tracemalloc: one report, and a small bundle, which must not
hold more than one report's worth at a time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from django.db.models import Count, Q
from django.test import override_settings
from django.utils import translation

from accounts.models import User
from benchmarks.report import Line, megabytes, seconds, verdict
from questionnaire.models import Campaign, Response
from reports import pdf, selectors, services

# Bundle sizes: the 100 CPTS; the tiny size only checks the line is printed.
BUNDLE_SIZES = {"tiny": 3, "small": 100, "large": 100}
REPEATS = 5  # single reports and the baseline: the median of this many, after one warm-up
PAGE_TARGET = 2.0  # a report's time per page over the one-page baseline's
BUNDLE_TARGET = 1.25  # a bundle's time over as many single reports
MEMORY_FLAT = 1.5  # a bundle's peak Python memory over one report's
MEMORY_BUNDLE = 5  # reports in the bundle whose Python memory is traced (tracemalloc is slow)

BASELINE_HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Référence</title><link rel="stylesheet" href="/static/css/report.css"></head><body>
<h2>Une page de référence</h2><p>{text}</p><p><strong>{text}</strong></p></body></html>"""
BASELINE_TEXT = (
    "Texte courant en DejaVu Sans, avec accents : « maturité », « coordination », "
    "« évalué » ; chiffres 0123456789. "
) * 12


def _rss(field: str) -> int | None:
    """VmRSS (now) or VmHWM (high-water mark) of this process in bytes (Linux), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class _RssGrowth:
    """How far the resident set rose above its level at the start of the block: C
    allocations (Pango, HarfBuzz, fonts) included, which tracemalloc does not see."""

    def __enter__(self) -> _RssGrowth:
        try:  # start a new high-water mark (Linux ≥ 4.0)
            Path("/proc/self/clear_refs").write_text("5")
            self.start = _rss("VmRSS")
        except OSError:
            self.start = None
        self.growth = None
        return self

    def __exit__(self, *exc) -> None:
        peak = _rss("VmHWM")
        if self.start is not None and peak is not None:
            self.growth = max(0, peak - self.start)

    def __str__(self) -> str:
        return f"RSS +{megabytes(self.growth)}" if self.growth is not None else "RSS n/a"


def _timed(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up: fonts, caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _python_peak(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure_reports(*, size: str) -> list[Line]:
    """Two lines: one CPTS's report, and a bundle of BUNDLE_SIZES[size] CPTS."""
    bundle_size = BUNDLE_SIZES[size]
    user, _created = User.objects.get_or_create(
        username="bench-fcpts", defaults={"role": User.Role.FCPTS}
    )
    # Responses of the campaign with the most submitted ones (a bundle is one campaign's),
    # each rendered once, so that nothing comes from the cache: the grid's, a warm-up, the
    # timed ones, the traced one, the bundles.
    campaign = (
        Campaign.objects.annotate(
            submitted=Count("responses", filter=Q(responses__status=Response.Status.SUBMITTED))
        )
        .order_by("-submitted", "year")
        .first()
    )
    wanted = 1 + 1 + REPEATS + 1 + bundle_size + MEMORY_BUNDLE
    responses = iter(
        Response.objects.filter(
            campaign=campaign, status=Response.Status.SUBMITTED, scores__isnull=False
        )
        .select_related("campaign__questionnaire", "cpts__department__region")
        .order_by("cpts__code")
        .distinct()[:wanted]
    )
    first = next(responses)
    grid = selectors.report_grid(first)
    rendered: list[pdf.Rendered] = []

    def one_report(response: Response | None = None) -> None:
        data = selectors.report_data(user=user, response=response or next(responses), grid=grid)
        rendered.append(pdf.render(services.report_html(data)))

    def bundle_of(count: int) -> None:
        with tempfile.TemporaryFile() as handle:
            chosen = [next(responses) for _ in range(count)]
            services.write_bundle(handle, responses=chosen, user=user)

    baseline_html = BASELINE_HTML.format(text=BASELINE_TEXT)
    with (
        tempfile.TemporaryDirectory(prefix="cpts-bench-media-") as media,
        override_settings(MEDIA_ROOT=media),
        translation.override("fr"),
    ):
        with _RssGrowth() as baseline_rss:
            baseline = _timed(lambda: pdf.render(baseline_html), REPEATS)
        baseline_python = _python_peak(lambda: pdf.render(baseline_html))
        with _RssGrowth() as single_rss:
            single = _timed(one_report, REPEATS)
        pages = statistics.median(r.pages for r in rendered)
        single_python = _python_peak(one_report)
        with _RssGrowth() as bundle_rss:
            started = time.perf_counter()
            bundle_of(bundle_size)
            bundle_time = time.perf_counter() - started
        bundle_python = _python_peak(lambda: bundle_of(MEMORY_BUNDLE))

    per_page = single / pages
    single_line = Line(
        measure="PDF report of one CPTS (HTML + WeasyPrint, not cached)",
        measured=(
            f"{seconds(single)} for {pages:g} pages = {seconds(per_page)}/page; Python peak "
            f"{megabytes(single_python)}, {single_rss}"
        ),
        baseline=(
            "WeasyPrint, one page of text in the same fonts and stylesheet: "
            f"{seconds(baseline)}; Python peak {megabytes(baseline_python)}, {baseline_rss}"
        ),
        ratio=f"{per_page / baseline:.1f}× per page",
        target=f"≤ {PAGE_TARGET:g}× the one-page document, per page",
        verdict=verdict(per_page <= PAGE_TARGET * baseline),
    )
    expected = single * bundle_size
    memory_ratio = bundle_python / single_python
    bundle_line = Line(
        measure=f"ZIP bundle of {bundle_size} CPTS reports (not cached)",
        measured=(
            f"{seconds(bundle_time)} = {seconds(bundle_time / bundle_size)}/CPTS, {bundle_rss}; "
            f"Python peak {megabytes(bundle_python)} for a bundle of {MEMORY_BUNDLE}"
        ),
        baseline=f"{bundle_size} × one report above: {seconds(expected)}",
        ratio=f"{bundle_time / expected:.2f}×; memory {memory_ratio:.2f}× one report",
        target=(f"≤ {BUNDLE_TARGET:g}× single reports; Python peak ≤ {MEMORY_FLAT:g}× one report"),
        verdict=verdict(bundle_time <= BUNDLE_TARGET * expected and memory_ratio <= MEMORY_FLAT),
    )
    return [single_line, bundle_line]
