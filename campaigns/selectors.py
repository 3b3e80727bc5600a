"""Reads of the campaign console: participants, the funnel, and the response rate that every
page divides by the participants in the user's scope."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, User
from accounts.scoping import cpts_visible_to
from campaigns.models import Participant
from mailing.models import SentMessage
from questionnaire.models import Campaign, Response
from territories.models import Cpts


def campaigns_for_console() -> QuerySet[Campaign]:
    """Every campaign with its funnel's head counts, newest first (one query)."""
    active = Q(participants__excluded_at__isnull=True)
    return (
        Campaign.objects.select_related("questionnaire")
        .annotate(
            participant_count=Count("participants", filter=active, distinct=True),
            submitted_count=Count(
                "responses",
                filter=Q(responses__status=Response.Status.SUBMITTED),
                distinct=True,
            ),
        )
        .order_by("-year", "-opens_on")
    )


@dataclass(frozen=True)
class ResponseRate:
    """Submitted responses over the denominator: the campaign's participants among the CPTS
    counted, or, for a campaign without a participant list, the CPTS counted themselves."""

    submitted: int
    total: int
    of_participants: bool

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(100) * self.submitted / self.total).quantize(Decimal("0.1"))


def response_rate(cpts: QuerySet[Cpts], campaign: Campaign) -> ResponseRate:
    """One query. `cpts` is the user's scoped (and filtered) CPTS."""
    participates = Participant.objects.filter(
        campaign=campaign, cpts=OuterRef("pk"), excluded_at__isnull=True
    )
    submitted = Response.objects.filter(
        campaign=campaign, cpts=OuterRef("pk"), status=Response.Status.SUBMITTED
    )
    counts = cpts.annotate(participates=Exists(participates), answered=Exists(submitted)).aggregate(
        total=Count("pk"),
        submitted=Count("pk", filter=Q(answered=True)),
        participants=Count("pk", filter=Q(participates=True)),
        participants_submitted=Count("pk", filter=Q(participates=True, answered=True)),
    )
    if counts["participants"]:
        return ResponseRate(counts["participants_submitted"], counts["participants"], True)
    return ResponseRate(counts["submitted"], counts["total"], False)


# --- The funnel -----------------------------------------------------------------------------

STAGES = (
    ("participants", "Participantes"),
    ("invited", "Invitées"),
    ("opened", "Ont ouvert le portail"),
    ("started", "Ont commencé"),
    ("submitted", "Ont soumis"),
)


@dataclass
class ParticipantState:
    participant: Participant
    invited: bool
    opened: bool
    started: bool
    submitted: bool

    @property
    def last_reminder(self):
        sent = [m.created_at for m in self.participant.messages.all() if m.rule_id]
        return max(sent, default=None)

    @property
    def undelivered(self) -> list[str]:
        """Addresses the mail server refused or that failed after every retry."""
        failed = (SentMessage.Status.REFUSED, SentMessage.Status.FAILED)
        return sorted(
            {
                f"{m.email} ({m.message.get_status_display()})"
                for m in self.participant.messages.all()
                if m.message is not None and m.message.status in failed
            }
        )

    @property
    def state(self) -> str:
        if self.participant.excluded:
            return "Exclue"
        if self.submitted:
            return "Soumise"
        if self.started:
            return "Commencée"
        if self.opened:
            return "Portail ouvert"
        return "Invitée" if self.invited else "Non invitée"


def participant_states(campaign: Campaign, user: User) -> list[ParticipantState]:
    """The campaign's participants in the user's scope with their progress (one query).

    "Opened the portal": a member of the CPTS's team signed in since the campaign opened, or
    the response exists."""
    opened_since = timezone.make_aware(
        timezone.datetime.combine(campaign.opens_on, timezone.datetime.min.time())
    )
    team_signed_in = Membership.objects.filter(
        cpts=OuterRef("cpts"), user__last_login__gte=opened_since
    )
    response = Response.objects.filter(campaign=campaign, cpts=OuterRef("cpts"))
    rows = (
        Participant.objects.filter(campaign=campaign, cpts__in=cpts_visible_to(user))
        .select_related("cpts__department__region")
        .prefetch_related("contacts", "messages__message")
        .annotate(
            signed_in=Exists(team_signed_in),
            started=Exists(response),
            submitted=Exists(response.filter(status=Response.Status.SUBMITTED)),
        )
        .order_by("cpts__department__code", "cpts__name")
    )
    return [
        ParticipantState(
            participant=row,
            invited=row.invited_at is not None,
            opened=row.signed_in or row.started,
            started=row.started,
            submitted=row.submitted,
        )
        for row in rows
    ]


@dataclass
class FunnelRow:
    label: str
    counts: dict[str, int]

    @property
    def cells(self) -> list[int]:
        """The counts in the funnel's order, for tables and CSV."""
        return [self.counts[stage] for stage, _label in STAGES]


def funnel(states: list[ParticipantState], by: str) -> list[FunnelRow]:
    """Counts of each funnel stage per region, department or stage (`by`), then the total.
    Excluded participants are out of every count."""
    key = {
        "region": lambda s: str(s.participant.cpts.department.region),
        "department": lambda s: str(s.participant.cpts.department),
        "stage": lambda s: s.participant.cpts.get_stage_display(),
    }[by]
    groups: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(dict(STAGES), 0))
    total = dict.fromkeys(dict(STAGES), 0)
    for state in states:
        if state.participant.excluded:
            continue
        for counts in (groups[key(state)], total):
            counts["participants"] += 1
            counts["invited"] += state.invited
            counts["opened"] += state.opened
            counts["started"] += state.started
            counts["submitted"] += state.submitted
    rows = [FunnelRow(label, counts) for label, counts in sorted(groups.items())]
    return [*rows, FunnelRow("Total", total)]


# --- Contacts -------------------------------------------------------------------------------


def contact_emails(participant: Participant) -> list[str]:
    """Who receives a participant's e-mails: its chosen contacts, or else its CPTS's active
    coordinators (lower-cased, sorted, without duplicates)."""
    chosen = [c.email.lower() for c in participant.contacts.all()]
    if chosen:
        return sorted(set(chosen))
    coordinators = Membership.objects.filter(
        cpts_id=participant.cpts_id,
        user__role=User.Role.COORDINATOR,
        user__is_active=True,
    ).exclude(user__email="")
    return sorted({email.lower() for email in coordinators.values_list("user__email", flat=True)})


# --- The weekly digest ----------------------------------------------------------------------


@dataclass
class CampaignDigest:
    campaign: Campaign
    rate: ResponseRate
    new_submissions: list[str]
    not_started: list[str]


def digest_for(user: User, *, since) -> list[CampaignDigest]:
    """For each open campaign: the submissions in the user's scope since `since`, the rate over
    the participants in scope, and the participants that have not started."""
    scope = cpts_visible_to(user)
    digests = []
    for campaign in Campaign.objects.open_on(timezone.localdate(since)):
        rate = response_rate(scope, campaign)
        new = Response.objects.filter(
            campaign=campaign,
            cpts__in=scope,
            status=Response.Status.SUBMITTED,
            submitted_at__gte=since,
        ).order_by("cpts__name")
        not_started = (
            Participant.objects.filter(campaign=campaign, cpts__in=scope, excluded_at__isnull=True)
            .exclude(cpts__responses__campaign=campaign)
            .order_by("cpts__name")
        )
        digests.append(
            CampaignDigest(
                campaign=campaign,
                rate=rate,
                new_submissions=list(new.values_list("cpts__name", flat=True)),
                not_started=list(not_started.values_list("cpts__name", flat=True)),
            )
        )
    return digests
