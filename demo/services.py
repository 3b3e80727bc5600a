"""Deterministic demo data: CPTS, indicators, users, three campaigns and plausible answers.

CPTS A–E carry the figures of the thesis (Tables 3–7, observed in 2021); the other
35 are fictional. Answers come from `demo.generator.demo_answers`, seeded by CPTS and
campaign, so two runs give the same data. `load_demo_data` runs `demo_data_load`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Membership, User
from campaigns.models import Participant, ReminderRule
from campaigns.services import DEFAULT_REMINDER_BODY, DEFAULT_REMINDER_SUBJECT
from demo.generator import demo_answers
from questionnaire.models import Answer, Campaign, Question, QuestionnaireVersion, Response
from questionnaire.selectors import questions_of
from scoring.services import grid_load, score_all_submitted
from territories.models import Cpts, Department, Region, TerritoryIndicator
from territories.reference import ensure_reference_territories
from territories.services import cpts_import_csv

DEMO_CPTS_FILE = Path(__file__).resolve().parent / "data" / "demo_cpts.csv"
DEMO_PASSWORD = "demo-cpts-2026"
INDICATOR_YEARS = (2024, 2025, 2026)


@dataclass(frozen=True)
class DemoCampaign:
    year: int
    opens_on: dt.date
    closes_on: dt.date
    submitted_share: float
    draft_share: float


def demo_campaigns(today: dt.date) -> list[DemoCampaign]:
    # The latest campaign stays open in the demo, whatever the date, so it can be filled in.
    latest_close = max(dt.date(2027, 3, 31), today + dt.timedelta(days=90))
    return [
        DemoCampaign(2024, dt.date(2024, 9, 1), dt.date(2024, 12, 15), 0.75, 0.0),
        DemoCampaign(2025, dt.date(2025, 9, 1), dt.date(2025, 12, 15), 0.85, 0.0),
        DemoCampaign(2026, dt.date(2026, 9, 1), latest_close, 0.55, 0.25),
    ]


DEMO_USERS = [
    # username, first name, last name, role, territory code, coordinated CPTS codes
    ("demo-coordinateur", "Sophie", "Martin", User.Role.COORDINATOR, None, ["THESE-A", "THESE-B"]),
    ("demo-ars-idf", "Marc", "Dubois", User.Role.ARS, "11", []),
    ("demo-cpam-75", "Nadia", "Benali", User.Role.CPAM, "75", []),
    ("demo-fcpts", "Claire", "Lefèvre", User.Role.FCPTS, None, []),
    ("demo-membre", "Julien", "Garnier", User.Role.MEMBER, None, ["THESE-A"]),
]
# Their function in the CPTS of their team (Membership.function); every demo user's e-mail
# address is <username>@example.org.
DEMO_FUNCTIONS = {
    "demo-coordinateur": Membership.Function.EMPLOYED_COORDINATOR,
    "demo-membre": Membership.Function.BOARD_MEMBER,
}


@transaction.atomic
def demo_data_load(*, version: QuestionnaireVersion, password: str = DEMO_PASSWORD) -> dict:
    ensure_reference_territories()
    report = cpts_import_csv(text=DEMO_CPTS_FILE.read_text(encoding="utf-8"))
    if not report.ok:
        raise ValueError("Demo CPTS file is invalid:\n" + "\n".join(report.errors))
    cpts_list = list(Cpts.objects.filter(code__in=_demo_codes()).order_by("code"))
    for cpts in cpts_list:
        _ensure_indicators(cpts)
    _ensure_users(password)
    questions = questions_of(version)
    today = timezone.localdate()
    created_responses = 0
    grid = grid_load().grid
    for spec in demo_campaigns(today):
        campaign, _ = Campaign.objects.update_or_create(
            slug=f"campagne-{spec.year}",
            defaults={
                "name": f"Campagne {spec.year}",
                "year": spec.year,
                "questionnaire": version,
                "opens_on": spec.opens_on,
                "closes_on": spec.closes_on,
                "status": Campaign.calendar_status(spec.opens_on, spec.closes_on, today),
            },
        )
        for cpts in cpts_list:
            created_responses += _ensure_response(campaign, spec, cpts, questions)
        if campaign.is_open(today):
            _ensure_participants(campaign, cpts_list)
    score_all_submitted(grid=grid)
    return {"cpts": len(cpts_list), "responses_created": created_responses}


def _demo_codes() -> list[str]:
    lines = DEMO_CPTS_FILE.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split(",", 1)[0] for line in lines if line]


def _ensure_indicators(cpts: Cpts) -> None:
    """Yearly figures drifting from the 2021 ones (thesis) or from a seeded base."""
    rng = random.Random(f"indicators-{cpts.code}")
    base = cpts.indicators.filter(year=2021).first()
    if base is None:
        population = rng.randrange(25_000, 240_000, 500)
        base = TerritoryIndicator(
            cpts=cpts,
            year=2021,
            population=population,
            area_km2=Decimal(rng.randrange(300, 80_000)) / 100,
            share_aged_80_plus=Decimal(rng.randrange(25, 85)) / 10,
            share_under_17=Decimal(rng.randrange(160, 260)) / 10,
            unemployment_rate=Decimal(rng.randrange(55, 180)) / 10,
            gp_count=max(5, int(population * rng.uniform(5, 11) / 10_000)),
            share_gp_over_60=Decimal(rng.randrange(300, 600)) / 10,
            gp_active_patients=rng.randrange(1300, 2200),
            specialist_count=int(population * rng.uniform(2, 12) / 10_000),
            share_without_gp=Decimal(rng.randrange(80, 190)) / 10,
            share_chronic_condition=Decimal(rng.randrange(160, 240)) / 10,
            flu_vaccination_rate=Decimal(rng.randrange(480, 680)) / 10,
            er_visits_per_100=Decimal(rng.randrange(180, 320)) / 10,
        )
        base.save()
    for offset, year in enumerate(INDICATOR_YEARS, start=1):
        if cpts.indicators.filter(year=year).exists():
            continue
        growth = 1 + 0.004 * offset * (1 if rng.random() < 0.7 else -1)
        TerritoryIndicator.objects.create(
            cpts=cpts,
            year=year,
            population=int(base.population * growth),
            area_km2=base.area_km2,
            share_aged_80_plus=_drift(base.share_aged_80_plus, 0.1 * offset),
            share_under_17=_drift(base.share_under_17, -0.1 * offset),
            unemployment_rate=_drift(base.unemployment_rate, rng.uniform(-0.4, 0.2) * offset),
            gp_count=max(1, base.gp_count + rng.randint(-2, 2) * offset),
            share_gp_over_60=base.share_gp_over_60,
            gp_active_patients=base.gp_active_patients,
            specialist_count=base.specialist_count,
            share_without_gp=_drift(base.share_without_gp, rng.uniform(-0.5, 0.4) * offset),
            share_chronic_condition=base.share_chronic_condition,
            flu_vaccination_rate=_drift(base.flu_vaccination_rate, rng.uniform(-0.8, 0.8)),
            er_visits_per_100=_drift(base.er_visits_per_100, rng.uniform(-0.6, 0.3) * offset),
        )


def _drift(value: Decimal | None, delta: float) -> Decimal | None:
    if value is None:
        return None
    return max(Decimal(0), (value + Decimal(str(round(delta, 2)))).quantize(Decimal("0.01")))


def _ensure_users(password: str) -> None:
    for username, first, last, role, territory, cpts_codes in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.role = first, last, role
        user.email = f"{username}@example.org"
        user.region = Region.objects.get(code=territory) if role == User.Role.ARS else None
        user.department = Department.objects.get(code=territory) if role == User.Role.CPAM else None
        # The federation's staff run campaigns through the Django admin.
        user.is_staff = user.is_superuser = role == User.Role.FCPTS
        user.set_password(password)
        user.save()
        for code in cpts_codes:
            Membership.objects.update_or_create(
                user=user,
                cpts=Cpts.objects.get(code=code),
                defaults={"function": DEMO_FUNCTIONS.get(username, "")},
            )


def _ensure_participants(campaign: Campaign, cpts_list: list[Cpts]) -> None:
    """The open campaign asks every demo CPTS, reached through its coordinators; its
    invitations count as sent on the opening day (nothing is e-mailed, no message logged)."""
    invited_at = timezone.make_aware(dt.datetime.combine(campaign.opens_on, dt.time(9)))
    for cpts in cpts_list:
        Participant.objects.get_or_create(
            campaign=campaign, cpts=cpts, defaults={"invited_at": invited_at}
        )
    # Already due, so that `send_due_reminders` right after loading reminds exactly the CPTS
    # that have not started.
    ReminderRule.objects.get_or_create(
        campaign=campaign,
        audience=ReminderRule.Audience.NOT_STARTED,
        defaults={
            "anchor": ReminderRule.Anchor.AFTER_OPENING,
            "days": 14,
            "subject": DEFAULT_REMINDER_SUBJECT,
            "body": DEFAULT_REMINDER_BODY,
        },
    )


def _ensure_response(
    campaign: Campaign, spec: DemoCampaign, cpts: Cpts, questions: list[Question]
) -> int:
    if Response.objects.filter(campaign=campaign, cpts=cpts).exists():
        return 0
    rng = random.Random(f"response-{cpts.code}-{spec.year}")
    if cpts.created_on and cpts.created_on.year > spec.year:
        return 0
    # The demo coordinator's CPTS A has the open campaign left to fill in.
    if cpts.code == "THESE-A" and spec.year == demo_campaigns(timezone.localdate())[-1].year:
        return 0
    draw = rng.random()
    if draw < spec.submitted_share:
        status = Response.Status.SUBMITTED
    elif draw < spec.submitted_share + spec.draft_share:
        status = Response.Status.DRAFT
    else:
        return 0
    submitted_at = None
    if status == Response.Status.SUBMITTED:
        day = spec.opens_on + dt.timedelta(days=rng.randrange(5, 80))
        submitted_at = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
        submitted_at = min(submitted_at, timezone.now())
    response = Response.objects.create(
        campaign=campaign, cpts=cpts, status=status, submitted_at=submitted_at
    )
    values = demo_answers(cpts, spec.year, questions, rng)
    if status == Response.Status.DRAFT:
        keep = rng.randrange(5, len(values))
        values = dict(list(values.items())[:keep])
    answers = [
        Answer(response=response, question=q, value=value, other_text=other)
        for q, (value, other) in ((q, values[q.id]) for q in questions if q.id in values)
    ]
    bulk_create_with_history(answers, Answer, batch_size=500)
    return 1
