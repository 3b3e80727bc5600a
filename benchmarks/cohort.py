"""A deterministic synthetic cohort for the bench: CPTS, campaigns, responses and answers.

Answers are drawn by the demo data's generator (`demo.generator`), seeded by CPTS and
campaign, so two runs of one size hold the same data and every answer passes the rules a user's
answer passes. Rows are written with PostgreSQL's COPY, since the large size holds about two
million answers; the history tables are left empty (nothing the bench measures reads them).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from accounts.backends import BACKEND_PATH
from accounts.models import Membership, User
from cpts_portal.bulk import rows_copy
from demo.generator import demo_answers
from questionnaire.models import Answer, Campaign, Question, QuestionnaireVersion, Response
from questionnaire.selectors import questions_of
from territories.models import Cpts, Department, Region

SEED = "cpts-bench-1"
LOAD_CODE_PREFIX = "BENCH-LOAD-"
# Shares of the CPTS that submitted, or left a draft of, a closed / the open campaign.
CLOSED_SUBMITTED, OPEN_SUBMITTED, OPEN_DRAFT = 0.85, 0.5, 0.3
STAGES = [
    (Cpts.Stage.RUNNING, 0.55),
    (Cpts.Stage.ENGINEERING, 0.25),
    (Cpts.Stage.FORMALISING, 0.12),
    (Cpts.Stage.DECLARED, 0.08),
]


@dataclass(frozen=True)
class Size:
    name: str
    cpts: int
    campaigns: int
    load_users: int
    load_seconds: int
    reminder_participants: int = 10_000


SIZES = {
    "tiny": Size(
        "tiny", cpts=50, campaigns=2, load_users=10, load_seconds=5, reminder_participants=200
    ),
    "small": Size("small", cpts=1_000, campaigns=3, load_users=50, load_seconds=60),
    "large": Size("large", cpts=5_000, campaigns=10, load_users=50, load_seconds=60),
}


@dataclass(frozen=True)
class LoadUser:
    """A coordinator of the load test: one CPTS, one draft response, a logged-in session."""

    username: str
    session_key: str
    response_id: int


@dataclass(frozen=True)
class Cohort:
    campaigns: list[Campaign]
    cpts: int
    responses: int
    submitted: int
    answers: int
    largest_region: Region
    ars_user: User
    load_users: list[LoadUser]


def cohort_generate(*, size: Size, version: QuestionnaireVersion) -> Cohort:
    """Write the cohort of this size into an empty database (migrated, questionnaire loaded)."""
    rng = random.Random(f"{SEED}-{size.name}")
    today = timezone.localdate()
    campaigns = _campaigns(size, version, today)
    questions = questions_of(version)
    cpts_ids = _write_cpts(size.cpts, rng, code_prefix="BENCH-")
    counts = _write_responses(cpts_ids, campaigns, questions, today)
    load_users = _load_users(size, version, campaigns[-1], questions, rng)
    largest = _largest_region()
    ars_user = User.objects.create(
        username="bench-ars", role=User.Role.ARS, region=largest, password="!"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Cohort(
        campaigns=campaigns,
        cpts=size.cpts,
        responses=counts["responses"],
        submitted=counts["submitted"],
        answers=counts["answers"],
        largest_region=largest,
        ars_user=ars_user,
        load_users=load_users,
    )


def _campaigns(size: Size, version: QuestionnaireVersion, today: dt.date) -> list[Campaign]:
    """Yearly campaigns, oldest first; the latest one is open so that drafts can be saved."""
    campaigns = []
    for offset in range(size.campaigns - 1, 0, -1):
        year = today.year - offset
        campaigns.append(
            Campaign(
                name=f"Campagne bench {year}",
                slug=f"bench-{year}",
                year=year,
                questionnaire=version,
                opens_on=dt.date(year, 9, 1),
                closes_on=dt.date(year, 12, 15),
                status=Campaign.Status.CLOSED,
            )
        )
    campaigns.append(
        Campaign(
            name=f"Campagne bench {today.year}",
            slug=f"bench-{today.year}",
            year=today.year,
            questionnaire=version,
            opens_on=today - dt.timedelta(days=60),
            closes_on=today + dt.timedelta(days=90),
            status=Campaign.Status.OPEN,
        )
    )
    return Campaign.objects.bulk_create(campaigns)


def _write_cpts(count: int, rng: random.Random, *, code_prefix: str) -> list[int]:
    """CPTS spread over the departments with uneven weights, so that regions differ in size."""
    departments = list(Department.objects.order_by("code").values_list("pk", flat=True))
    weights = [1 + (index * 7919) % 13 for index in range(len(departments))]
    stages, stage_weights = zip(*STAGES, strict=True)
    rows = []
    for number in range(1, count + 1):
        created = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(0, 5 * 365))
        rows.append(
            (
                f"{code_prefix}{number:05d}",
                f"CPTS synthétique {code_prefix}{number:05d}",
                rng.choices(departments, weights)[0],
                rng.choices(stages, stage_weights)[0],
                created,
                created + dt.timedelta(days=rng.randrange(100, 700)),
                "Association loi 1901",
            )
        )
    rows_copy(
        Cpts,
        ("code", "name", "department_id", "stage", "created_on", "aci_signed_on", "legal_form"),
        iter(rows),
    )
    codes = [row[0] for row in rows]
    by_code = dict(Cpts.objects.filter(code__in=codes).values_list("code", "pk"))
    return [by_code[code] for code in codes]


def _write_responses(
    cpts_ids: list[int], campaigns: list[Campaign], questions: list[Question], today: dt.date
) -> dict[str, int]:
    """One response per CPTS and campaign that it took part in, with its answers."""
    cpts_by_id = {c.pk: c for c in Cpts.objects.filter(pk__in=cpts_ids)}
    now = timezone.now()
    plan: list[tuple[int, Campaign, str, dt.datetime | None, random.Random]] = []
    for campaign in campaigns:
        is_open = campaign.is_open(today)
        for cpts_id in cpts_ids:
            rng = random.Random(f"{SEED}-{cpts_by_id[cpts_id].code}-{campaign.year}")
            draw = rng.random()
            if is_open:
                if draw < OPEN_SUBMITTED:
                    status = Response.Status.SUBMITTED
                elif draw < OPEN_SUBMITTED + OPEN_DRAFT:
                    status = Response.Status.DRAFT
                else:
                    continue
            elif draw < CLOSED_SUBMITTED:
                status = Response.Status.SUBMITTED
            else:
                continue
            submitted_at = None
            if status == Response.Status.SUBMITTED:
                day = campaign.opens_on + dt.timedelta(days=rng.randrange(1, 60))
                submitted_at = min(
                    timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0))), now
                )
            plan.append((cpts_id, campaign, status, submitted_at, rng))

    rows_copy(
        Response,
        ("campaign_id", "cpts_id", "status", "submitted_at", "created_at", "updated_at"),
        ((c.pk, cpts_id, status, at, now, now) for cpts_id, c, status, at, _ in plan),
    )
    response_ids = {
        (cpts_id, campaign_id): pk
        for pk, cpts_id, campaign_id in Response.objects.filter(cpts_id__in=cpts_ids).values_list(
            "pk", "cpts_id", "campaign_id"
        )
    }
    answers = 0

    def answer_rows() -> Iterator[tuple]:
        nonlocal answers
        for cpts_id, campaign, status, _, rng in plan:
            values = demo_answers(cpts_by_id[cpts_id], campaign.year, questions, rng)
            items = list(values.items())
            if status == Response.Status.DRAFT:
                items = items[: rng.randrange(5, len(items))]
            response_id = response_ids[(cpts_id, campaign.pk)]
            for question_id, (value, other) in items:
                answers += 1
                yield (response_id, question_id, json.dumps(value), other, 1, now)

    rows_copy(
        Answer,
        ("response_id", "question_id", "value", "other_text", "revision", "updated_at"),
        answer_rows(),
    )
    submitted = sum(1 for row in plan if row[2] == Response.Status.SUBMITTED)
    return {"responses": len(plan), "submitted": submitted, "answers": answers}


def _load_users(
    size: Size,
    version: QuestionnaireVersion,
    campaign: Campaign,
    questions: list[Question],
    rng: random.Random,
) -> list[LoadUser]:
    """Coordinators of their own CPTS, each with a draft of the open campaign, fully answered
    (so that the bare view's UPDATE always finds its row), and a session already logged in."""
    cpts_ids = _write_cpts(size.load_users, rng, code_prefix=LOAD_CODE_PREFIX)
    now = timezone.now()
    rows_copy(
        Response,
        ("campaign_id", "cpts_id", "status", "created_at", "updated_at"),
        ((campaign.pk, cpts_id, Response.Status.DRAFT, now, now) for cpts_id in cpts_ids),
    )
    responses = dict(Response.objects.filter(cpts_id__in=cpts_ids).values_list("cpts_id", "pk"))
    cpts_by_id = {c.pk: c for c in Cpts.objects.filter(pk__in=cpts_ids)}
    rows = []
    for cpts_id in cpts_ids:
        values = demo_answers(cpts_by_id[cpts_id], campaign.year, questions, rng)
        rows.extend(
            (responses[cpts_id], qid, json.dumps(value), other, 1, now)
            for qid, (value, other) in values.items()
        )
    rows_copy(
        Answer,
        ("response_id", "question_id", "value", "other_text", "revision", "updated_at"),
        iter(rows),
    )
    users = User.objects.bulk_create(
        User(username=f"bench-coord-{index:03d}", role=User.Role.COORDINATOR, password="!")
        for index in range(1, size.load_users + 1)
    )
    Membership.objects.bulk_create(
        Membership(user=user, cpts_id=cpts_id)
        for user, cpts_id in zip(users, cpts_ids, strict=True)
    )
    return [
        LoadUser(user.username, _session_for(user), responses[cpts_id])
        for user, cpts_id in zip(users, cpts_ids, strict=True)
    ]


def _session_for(user: User) -> str:
    """A logged-in session, as `login()` leaves it, without paying for a password hash."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND_PATH
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _largest_region() -> Region:
    """The region with the most synthetic CPTS: the heaviest territory overview."""
    return (
        Region.objects.annotate(
            n=Count(
                "departments__cpts",
                filter=Q(departments__cpts__code__startswith="BENCH-")
                & ~Q(departments__cpts__code__startswith=LOAD_CODE_PREFIX),
            )
        )
        .order_by("-n", "code")
        .first()
    )
