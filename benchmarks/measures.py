"""The bench's measures. Each returns one line of the table: the figure, the baseline measured in
the same run on the same data, their ratio and the verdict against the issue's target."""

from __future__ import annotations

import datetime as dt
import statistics
import time
import tracemalloc
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from benchmarks.cohort import Cohort
from benchmarks.load import LoadRun
from benchmarks.report import Line, megabytes, seconds, unavailable, verdict
from questionnaire.models import Campaign, Response
from scoring import selectors
from scoring.models import ScoringGrid
from territories.models import Cpts, Region

RESCORE_TARGET = 10_000  # responses per second, or the SQL + numpy baseline's rate if lower
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
        target=f"≥ {RESCORE_TARGET:,} responses/s or ≥ the SQL + numpy rate, if lower",
        verdict=verdict(rate >= min(RESCORE_TARGET, baseline_rate) and agrees),
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


EXPORT_TARGET = 2.0  # export time over the COPY time
MEMORY_FLAT = 1.5  # peak memory of every campaign's export over one campaign's
OVERVIEW_TARGET = 2.0  # page time over the bare page's (benchmarks.views.bare_overview)
REPEATS = 5  # page, export and SQL timings: the median of this many runs, after one warm-up


class _CountingStream:
    """A text stream that keeps nothing: only how much was written."""

    def __init__(self) -> None:
        self.characters = 0

    def write(self, text: str) -> int:
        self.characters += len(text)
        return len(text)


def _export_campaign(cohort: Cohort) -> Campaign:
    """The campaign with the most submitted responses: the heaviest single-campaign export."""
    return (
        Campaign.objects.filter(pk__in=[c.pk for c in cohort.campaigns])
        .annotate(n=Count("responses", filter=Q(responses__status=Response.Status.SUBMITTED)))
        .order_by("-n", "year")
        .first()
    )


def _export_peak_memory(write_export, spec) -> int:
    tracemalloc.start()
    try:
        write_export(_CountingStream(), spec=spec, user=None)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure_export(*, cohort: Cohort, profile_dir: Path | None) -> Line:
    measure = "wide CSV export of one campaign"
    target = f"≤ {EXPORT_TARGET:g}× COPY; peak memory flat as rows grow"
    try:
        from exports.spec import WIDE, ExportSpec
        from exports.writers import write_export
    except ImportError as error:
        return unavailable(measure, target, f"exports.writers not importable ({error})")

    campaign = _export_campaign(cohort)
    spec = ExportSpec(campaigns=(campaign.slug,), format=WIDE)
    written: dict[str, int] = {}

    def export() -> None:
        stream = _CountingStream()
        written["responses"] = write_export(stream, spec=spec, user=None)
        written["characters"] = stream.characters

    # Baseline: the same answers (submitted responses of the campaign, with the CPTS that
    # answered), streamed by PostgreSQL itself as CSV, one row per answer.
    def copy() -> None:
        copied = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY (SELECT r.id, c.code, c.name, r.status, r.submitted_at, q.variable, "
                "a.value, a.other_text FROM questionnaire_answer a "
                "JOIN questionnaire_response r ON r.id = a.response_id "
                "JOIN territories_cpts c ON c.id = r.cpts_id "
                "JOIN questionnaire_question q ON q.id = a.question_id "
                "WHERE r.campaign_id = %s AND r.status = 'submitted' ORDER BY r.id, q.number) "
                "TO STDOUT WITH (FORMAT csv)",
                [campaign.pk],
            ) as stream,
        ):
            for block in stream:
                copied += len(block)
        written["copied"] = copied

    with profiled("export", profile_dir):
        export()
    # Both timed alike, as the overview is: the median of a few runs after a warm-up, so that
    # neither side pays alone for reading the campaign's pages from disk.
    elapsed = _median_time(export)
    baseline = _median_time(copy)
    count, characters, copied = written["responses"], written["characters"], written["copied"]

    all_spec = ExportSpec(campaigns=tuple(c.slug for c in cohort.campaigns), format=WIDE)
    one_peak = _export_peak_memory(write_export, spec)
    all_peak = _export_peak_memory(write_export, all_spec)
    all_count = Response.objects.filter(
        campaign__in=cohort.campaigns, status=Response.Status.SUBMITTED
    ).count()
    ratio = elapsed / baseline
    flat = all_peak <= MEMORY_FLAT * one_peak
    return Line(
        measure=measure,
        measured=(
            f"{count:,} responses, {megabytes(characters)} in {seconds(elapsed)}; "
            f"peak {megabytes(one_peak)}, {megabytes(all_peak)} for all "
            f"{len(cohort.campaigns)} campaigns ({all_count:,} responses)"
        ),
        baseline=f"COPY … TO STDOUT: {megabytes(copied)} in {seconds(baseline)}",
        ratio=f"{ratio:.1f}×; memory {all_peak / one_peak:.2f}×",
        target=target,
        verdict=verdict(ratio <= EXPORT_TARGET and flat),
    )


OVERVIEW_SQL = """
WITH scope AS (
    SELECT c.id, c.stage, d.code AS department
    FROM territories_cpts c JOIN territories_department d ON d.id = c.department_id
    WHERE d.region_id = %(region)s
), scored AS (
    SELECT s.id, s.index, r.campaign_id, scope.stage, scope.department
    FROM scoring_responsescore s
    JOIN questionnaire_response r ON r.id = s.response_id
    JOIN scope ON scope.id = r.cpts_id
    WHERE r.status = 'submitted' AND s.grid_id = %(grid)s
)
SELECT 'rate', NULL, count(*)::float8, count(r.id) FILTER (WHERE r.status = 'submitted')::float8,
       NULL::float8[]
FROM scope
LEFT JOIN questionnaire_response r ON r.cpts_id = scope.id AND r.campaign_id = %(campaign)s
UNION ALL
SELECT 'department', department, count(*), avg(index),
       percentile_cont(ARRAY[0, 0.25, 0.5, 0.75, 1]) WITHIN GROUP (ORDER BY index)
FROM scored WHERE campaign_id = %(campaign)s AND index IS NOT NULL GROUP BY department
UNION ALL
SELECT 'stage', stage, count(*), avg(index),
       percentile_cont(ARRAY[0, 0.25, 0.5, 0.75, 1]) WITHIN GROUP (ORDER BY index)
FROM scored WHERE campaign_id = %(campaign)s AND index IS NOT NULL GROUP BY stage
UNION ALL
SELECT 'cell', a.dimension_id || ':' || a.constraint, count(*), avg(a.value), NULL
FROM scoring_areascore a JOIN scored ON scored.id = a.score_id
WHERE scored.campaign_id = %(campaign)s AND a.kind = 'cell' AND a.value IS NOT NULL
GROUP BY a.dimension_id, a.constraint
UNION ALL
SELECT 'campaign', campaign_id::text, count(*), avg(index),
       percentile_cont(ARRAY[0, 0.25, 0.5, 0.75, 1]) WITHIN GROUP (ORDER BY index)
FROM scored WHERE index IS NOT NULL GROUP BY campaign_id
"""


def _median_time(run, repeats: int = REPEATS, *, before=None) -> float:
    run()  # warm-up: caches, prepared plans, imports
    timings = []
    for _ in range(repeats):
        if before is not None:
            before()  # not timed
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def measure_overview(*, cohort: Cohort, grid: ScoringGrid, profile_dir: Path | None) -> Line:
    measure = "territory overview page (largest region)"
    target = f"≤ {OVERVIEW_TARGET:g}× the bare page; same query count for every region size"
    try:
        url = reverse("dashboards:overview")
    except NoReverseMatch:
        return unavailable(measure, target, "no URL named dashboards:overview")

    campaign = cohort.campaigns[-1]
    query = {"campagne": campaign.slug}
    client = Client()
    client.force_login(cohort.ars_user)

    def getter(address: str):
        def get_page() -> None:
            response = client.get(address, query)
            if response.status_code != 200:
                raise RuntimeError(f"{address} answered HTTP {response.status_code}")

        return get_page

    get_page = getter(url)
    with CaptureQueriesContext(connection) as queries:
        get_page()
    large_queries = len(queries)
    with profiled("overview", profile_dir):
        elapsed = _median_time(get_page)
    # The same, each time with the charts' cache emptied (dashboards.cache): the first view
    # after a score changed.
    computing = _median_time(get_page, before=cache.clear)

    def aggregate() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                OVERVIEW_SQL,
                {"region": cohort.largest_region.pk, "grid": grid.pk, "campaign": campaign.pk},
            )
            cursor.fetchall()

    baseline = _median_time(aggregate)
    # The page's visible content from one SQL statement through a plain template, requested
    # the same way: what a page showing this costs at least with this framework.
    bare = _median_time(getter(reverse("bench_bare_overview")))

    # The same page for the smallest region that has CPTS: an N+1 shows as more queries here.
    small_region = _smallest_region()
    small_user = User.objects.create(
        username="bench-ars-small", role=User.Role.ARS, region=small_region, password="!"
    )
    client.force_login(small_user)
    with CaptureQueriesContext(connection) as queries:
        get_page()
    small_queries = len(queries)
    ratio = elapsed / bare
    visible = Cpts.objects.filter(department__region=cohort.largest_region).count()
    return Line(
        measure=measure,
        measured=(
            f"{cohort.largest_region.name} ({visible:,} CPTS): {seconds(elapsed)} "
            f"({seconds(computing)} with the charts' cache empty), "
            f"{large_queries} queries ({small_queries} for {small_region.name})"
        ),
        baseline=(
            f"bare page (one SQL statement, plain template): {seconds(bare)}; "
            f"one SQL aggregate: {seconds(baseline)}"
        ),
        ratio=f"{ratio:.1f}× bare; {elapsed / baseline:.0f}× SQL",
        target=target,
        verdict=verdict(ratio <= OVERVIEW_TARGET and large_queries == small_queries),
    )


def _smallest_region() -> Region:
    return (
        Region.objects.annotate(n=Count("departments__cpts"))
        .filter(n__gt=0)
        .order_by("n", "code")
        .first()
    )


# --- Campaign reminders ---------------------------------------------------------------------


class _QueryCounter:
    """Counts the statements run, without keeping them (CaptureQueriesContext would hold tens
    of thousands of strings in the memory being measured)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _reminder_campaign(count: int, version) -> Campaign:
    """An open campaign asking `count` CPTS of their own, each with one contact, none started,
    and a reminder rule for them that is due today."""
    from campaigns.models import Participant, ParticipantContact, ReminderRule
    from campaigns.services import DEFAULT_REMINDER_BODY, DEFAULT_REMINDER_SUBJECT
    from territories.models import Department

    today = timezone.localdate()
    department = Department.objects.order_by("code").first()
    Cpts.objects.bulk_create(
        Cpts(
            code=f"BENCH-REM-{n:05d}",
            name=f"CPTS relance {n}",
            department=department,
            stage=Cpts.Stage.RUNNING,
        )
        for n in range(count)
    )
    campaign = Campaign.objects.create(
        name="Campagne bench relances",
        slug="bench-relances",
        year=today.year,
        questionnaire=version,
        opens_on=today - dt.timedelta(days=30),
        closes_on=today + dt.timedelta(days=30),
        status=Campaign.Status.OPEN,
    )
    participants = Participant.objects.bulk_create(
        Participant(campaign=campaign, cpts=cpts)
        for cpts in Cpts.objects.filter(code__startswith="BENCH-REM-")
    )
    ParticipantContact.objects.bulk_create(
        ParticipantContact(participant=p, email=f"contact{p.pk}@example.org") for p in participants
    )
    ReminderRule.objects.create(
        campaign=campaign,
        audience=ReminderRule.Audience.NOT_STARTED,
        anchor=ReminderRule.Anchor.AFTER_OPENING,
        days=7,
        subject=DEFAULT_REMINDER_SUBJECT,
        body=DEFAULT_REMINDER_BODY,
    )
    return campaign


def measure_reminders(*, count: int, version, profile_dir: Path | None) -> Line:
    """`send_due_reminders` over `count` participants (messages rendered, logged and delivered
    to Django's dummy e-mail backend), against writing the same rows with bulk_create."""
    from campaigns.models import CampaignMessage
    from campaigns.services import reminders_send_due
    from mailing.models import SentMessage

    measure = f"`send_due_reminders` over {count:,} participants"
    campaign = _reminder_campaign(count, version)
    counter = _QueryCounter()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        tracemalloc.start()
        with profiled("reminders", profile_dir), connection.execute_wrapper(counter):
            started = time.perf_counter()
            sent = reminders_send_due()
            elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        again = reminders_send_due()
    delivered = SentMessage.objects.filter(
        key__startswith=f"campaign:{campaign.pk}:", status=SentMessage.Status.SENT
    ).count()

    # The baseline writes what the run wrote, one text for all, in two bulk inserts.
    template = SentMessage.objects.filter(key__startswith=f"campaign:{campaign.pk}:").first()
    logs = list(CampaignMessage.objects.filter(participant__campaign=campaign))
    started = time.perf_counter()
    with transaction.atomic():
        messages = SentMessage.objects.bulk_create(
            SentMessage(
                key=f"baseline:{log.pk}",
                to=log.email,
                template=template.template,
                subject=template.subject,
                body_text=template.body_text,
                body_html=template.body_html,
                status=SentMessage.Status.SENT,
            )
            for log in logs
        )
        CampaignMessage.objects.bulk_create(
            CampaignMessage(
                participant_id=log.participant_id,
                email=f"baseline-{log.email}",
                rule_id=log.rule_id,
                sequence=log.sequence,
                message=message,
            )
            for log, message in zip(logs, messages, strict=True)
        )
    baseline = time.perf_counter() - started
    ok = len(sent) == delivered == count and not again
    return Line(
        measure=measure,
        measured=(
            f"{len(sent):,} reminders in {seconds(elapsed)} ({count / elapsed:,.0f}/s), "
            f"{counter.count:,} queries ({counter.count / max(count, 1):.1f} per reminder), "
            f"peak {megabytes(peak)}; {delivered:,} delivered; a second run sends {len(again)}"
        ),
        baseline=f"the same rows by bulk_create: {seconds(baseline)}",
        ratio=f"{elapsed / baseline:.0f}×",
        target="each reminder sent once; a second run sends nothing",
        verdict=verdict(ok),
    )
