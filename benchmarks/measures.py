"""The bench's measures. Each returns one line of the table: the figure, the baseline measured in
the same run on the same data, their ratio and the verdict against the issue's target."""

from __future__ import annotations

import importlib.util
import time
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from benchmarks.cohort import Cohort
from benchmarks.load import LoadRun
from benchmarks.report import Line, seconds, unavailable, verdict
from scoring import selectors
from scoring.models import ScoringGrid

RESCORE_TARGET = 10_000  # responses per second
AUTOSAVE_TARGET = 2.0  # p95 over the bare view's p95


@contextmanager
def profiled(name: str, profile_dir: Path | None):
    """pyinstrument around the block when --profile is given: an HTML report per measure."""
    if profile_dir is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        profile_dir.mkdir(parents=True, exist_ok=True)
        (profile_dir / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
        (profile_dir / f"{name}.txt").write_text(profiler.output_text(), encoding="utf-8")


def measure_rescore(*, grid: ScoringGrid, profile_dir: Path | None) -> Line:
    from benchmarks.vectorised import compare_with_stored, scores_vectorised

    count = len(selectors.response_ids_to_score(grid))
    with profiled("rescore", profile_dir):
        started = time.perf_counter()
        call_command("rescore", grid=grid.code, stdout=StringIO())
        elapsed = time.perf_counter() - started
    started = time.perf_counter()
    scores = scores_vectorised(grid)
    baseline = time.perf_counter() - started
    agreement = compare_with_stored(scores, grid)
    agrees = agreement.agreeing == agreement.responses == count
    rate, baseline_rate = count / elapsed, count / baseline
    return Line(
        measure="`rescore` of every submitted response",
        measured=f"{count:,} in {seconds(elapsed)} = {rate:,.0f}/s",
        baseline=(
            f"SQL + numpy: {seconds(baseline)} = {baseline_rate:,.0f}/s; same scores for "
            f"{agreement.agreeing:,}/{count:,}"
            + (f" ({agreement.first_difference})" if agreement.first_difference else "")
        ),
        ratio=f"{elapsed / baseline:.0f}× slower",
        target=f"≥ {RESCORE_TARGET:,} responses/s",
        verdict=verdict(rate >= RESCORE_TARGET and agrees),
    )


def autosave_line(autosave: LoadRun, bare: LoadRun, *, users: int, seconds_: int) -> Line:
    ratio = autosave.p95_ms / bare.p95_ms
    ok = ratio <= AUTOSAVE_TARGET and autosave.errors == 0 and autosave.lost == 0
    return Line(
        measure=f"autosave under load (locust, {users} users, {seconds_} s, gunicorn)",
        measured=(
            f"p95 {autosave.p95_ms:.0f} ms (p50 {autosave.p50_ms:.0f}), "
            f"{autosave.requests:,} saves, {autosave.errors} errors, {autosave.lost} lost"
        ),
        baseline=(
            f"bare view, one UPDATE: p95 {bare.p95_ms:.0f} ms (p50 {bare.p50_ms:.0f}), "
            f"{bare.requests:,} saves, {bare.errors} errors"
        ),
        ratio=f"{ratio:.1f}×",
        target=f"p95 ≤ {AUTOSAVE_TARGET:g}× bare; 0 errors; 0 lost",
        verdict=verdict(ok),
    )


def measure_export(*, cohort: Cohort, profile_dir: Path | None) -> Line:
    target = "≤ 2× COPY; peak memory flat small → large"
    if importlib.util.find_spec("exports.services") is None:
        return unavailable(
            "wide CSV export of one campaign", target, "exports/services.py does not exist"
        )
    return unavailable(
        "wide CSV export of one campaign", target, "exports/services.py not wired into the bench"
    )


def measure_overview(*, cohort: Cohort, profile_dir: Path | None) -> Line:
    target = "≤ 3× raw SQL; same query count at every size"
    if importlib.util.find_spec("dashboards.selectors") is None:
        return unavailable(
            "territory overview page (largest region)", target, "dashboards/ has no overview yet"
        )
    return unavailable(
        "territory overview page (largest region)", target, "overview not wired into the bench"
    )
