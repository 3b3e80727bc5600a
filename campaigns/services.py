"""Writes of the campaign console: a campaign's life cycle and its participants."""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.scoping import can_view_dashboards
from accounts.services import activation_send
from campaigns import selectors
from campaigns.models import (
    CampaignMessage,
    DigestSubscription,
    Participant,
    ParticipantContact,
    ReminderRule,
    Unsubscription,
)
from cpts_portal.spreadsheet import TableInvalid, read_table
from mailing.services import absolute_url, message_send
from questionnaire.models import Campaign, QuestionnaireVersion, Response
from questionnaire.selectors import responses_progress
from scoring.selectors import latest_grid
from territories.models import Cpts

Status = Campaign.Status


class CampaignError(Exception):
    """A change the campaign's state does not allow; the message is shown to the user."""


def campaign_create(
    *,
    name: str,
    slug: str,
    year: int,
    questionnaire: QuestionnaireVersion,
    opens_on: dt.date,
    closes_on: dt.date,
    grid_code: str = "",
) -> Campaign:
    """A new campaign starts as a draft: nothing is asked of anybody until it opens."""
    return Campaign.objects.create(
        name=name,
        slug=slug,
        year=year,
        questionnaire=questionnaire,
        opens_on=opens_on,
        closes_on=closes_on,
        grid_code=grid_code,
        status=Status.DRAFT,
    )


def campaign_update(*, campaign: Campaign, **fields) -> Campaign:
    """Only a draft is edited: once open, its questionnaire version and dates are what CPTS
    were told."""
    if campaign.status != Status.DRAFT:
        raise CampaignError("Seule une campagne en brouillon peut être modifiée.")
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_open(*, campaign: Campaign, today: dt.date | None = None) -> Campaign:
    """Open a draft now; an opening before its date moves the date to today."""
    today = today or timezone.localdate()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Status.DRAFT:
        raise CampaignError("Seule une campagne en brouillon peut être ouverte.")
    if campaign.closes_on < today:
        raise CampaignError("La date de clôture est passée : modifiez-la avant d'ouvrir.")
    campaign.opens_on = min(campaign.opens_on, today)
    _open(campaign)
    return campaign


def _open(campaign: Campaign) -> None:
    """Open now, freezing the scoring grid (the latest of its questionnaire if none chosen)."""
    if not campaign.grid_code:
        grid = latest_grid(campaign.questionnaire)
        campaign.grid_code = grid.code if grid else ""
    campaign.status = Status.OPEN
    campaign.save()


@transaction.atomic
def campaign_close(*, campaign: Campaign, today: dt.date | None = None) -> Campaign:
    """Close an open campaign now: its responses become read-only (drafts stay drafts)."""
    today = today or timezone.localdate()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Status.OPEN:
        raise CampaignError("Seule une campagne ouverte peut être close.")
    campaign.closes_on = max(min(campaign.closes_on, today), campaign.opens_on)
    campaign.status = Status.CLOSED
    campaign.save()
    return campaign


@transaction.atomic
def campaign_archive(*, campaign: Campaign) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Status.CLOSED:
        raise CampaignError("Seule une campagne close peut être archivée.")
    campaign.status = Status.ARCHIVED
    campaign.save()
    return campaign


def campaigns_follow_calendar(*, today: dt.date | None = None) -> dict[str, int]:
    """Daily beat task: open the drafts whose opening day has come, close the open campaigns
    whose closing day has passed. Idempotent: a second run the same day changes nothing."""
    today = today or timezone.localdate()
    opened = closed = 0
    for campaign in Campaign.objects.filter(
        status=Status.DRAFT, opens_on__lte=today, closes_on__gte=today
    ):
        _open(campaign)
        opened += 1
    for campaign in Campaign.objects.filter(status=Status.OPEN, closes_on__lt=today):
        campaign.status = Status.CLOSED
        campaign.save(update_fields=["status"])
        closed += 1
    return {"opened": opened, "closed": closed}


def participants_add(
    *, campaign: Campaign, stages: Iterable[str] = (), region_ids: Iterable[int] = ()
) -> int:
    """Add every CPTS of the chosen stages and regions (all CPTS when neither is given);
    CPTS already on the list are left as they are. Returns how many were added."""
    _check_list_editable(campaign)
    cpts = Cpts.objects.all()
    if stages := list(stages):
        cpts = cpts.filter(stage__in=stages)
    if region_ids := list(region_ids):
        cpts = cpts.filter(department__region_id__in=region_ids)
    existing = set(campaign.participants.values_list("cpts_id", flat=True))
    created = Participant.objects.bulk_create(
        [
            Participant(campaign=campaign, cpts_id=pk)
            for pk in cpts.values_list("pk", flat=True)
            if pk not in existing
        ]
    )
    return len(created)


def participant_exclude(*, participant: Participant, reason: str) -> Participant:
    reason = reason.strip()
    if not reason:
        raise CampaignError("Indiquez le motif de l'exclusion (CPTS dissoute, fusionnée…).")
    if len(reason) > 200:
        raise CampaignError("Le motif ne peut pas dépasser 200 caractères.")
    participant.excluded_reason = reason
    participant.excluded_at = timezone.now()
    participant.save()
    return participant


def participant_include(*, participant: Participant) -> Participant:
    participant.excluded_reason = ""
    participant.excluded_at = None
    participant.save()
    return participant


def _check_list_editable(campaign: Campaign) -> None:
    if campaign.status in (Status.CLOSED, Status.ARCHIVED):
        raise CampaignError("La campagne est close : sa liste de participants est figée.")


PARTICIPANT_COLUMNS = ("cpts_code", "email")


@dataclass
class ParticipantImportReport:
    participants_added: int = 0
    contacts_added: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def participants_import(
    *, campaign: Campaign, text: str | bytes, dry_run: bool = False
) -> ParticipantImportReport:
    """Add participants and their contacts from CSV text `cpts_code,email` (an empty e-mail:
    the CPTS's coordinators). All or nothing: one French message per bad line."""
    report = ParticipantImportReport()
    try:
        _check_list_editable(campaign)
    except CampaignError as error:
        report.errors.append(str(error))
        return report
    try:
        table = read_table(text, required=PARTICIPANT_COLUMNS)
    except TableInvalid as invalid:
        report.errors += [f"Ligne {p.line} : {p.message}." for p in invalid.problems]
        return report
    rows = [(row.line, row.as_dict()) for row in table.rows]
    codes = {row.get("cpts_code", "").strip() for _line, row in rows}
    cpts_by_code = {c.code: c for c in Cpts.objects.filter(code__in=codes)}
    wanted: dict[int, set[str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        code, email = row.get("cpts_code", "").strip(), row.get("email", "").strip().lower()
        errors = []
        if not code:
            errors.append("cpts_code vide")
        elif code not in cpts_by_code:
            errors.append(f"CPTS inconnue « {code} »")
        if email:
            try:
                validate_email(email)
                if len(email) > ParticipantContact._meta.get_field("email").max_length:
                    raise ValidationError("too long")
            except ValidationError:
                errors.append(f"adresse e-mail invalide « {email[:100]} »")
        if (code, email) in seen:
            errors.append(f"déjà présente ligne {seen[(code, email)]}")
        seen.setdefault((code, email), line)
        if errors:
            report.errors.append(f"Ligne {line} : " + " ; ".join(errors) + ".")
            continue
        emails = wanted.setdefault(cpts_by_code[code].pk, set())
        if email:
            emails.add(email)
    if report.errors:
        return report
    with transaction.atomic():
        existing = {p.cpts_id: p for p in campaign.participants.all()}
        known = set(
            ParticipantContact.objects.filter(participant__campaign=campaign).values_list(
                "participant__cpts_id", "email"
            )
        )
        for cpts_id, emails in wanted.items():
            participant = existing.get(cpts_id)
            if participant is None:
                participant = Participant.objects.create(campaign=campaign, cpts_id=cpts_id)
                report.participants_added += 1
            for email in sorted(emails - {e for c, e in known if c == cpts_id}):
                ParticipantContact.objects.create(participant=participant, email=email)
                report.contacts_added += 1
        if dry_run:
            transaction.set_rollback(True)
    return report


# --- Invitations and reminders --------------------------------------------------------------

PLACEHOLDERS = {
    "cpts": "le nom de la CPTS",
    "campagne": "le nom de la campagne",
    "cloture": "la date de clôture",
    "avancement": "la part du questionnaire déjà remplie",
    "lien": "le lien vers le questionnaire de la CPTS",
}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
DEFAULT_REMINDER_SUBJECT = "{campagne} : le questionnaire de {cpts}"
DEFAULT_REMINDER_BODY = (
    "Bonjour,\n\nLe questionnaire de maturité de {cpts} pour la {campagne} se clôt le "
    "{cloture}. Il est rempli à {avancement} ; quelques minutes suffisent pour le compléter.\n\n"
    "Merci de votre participation,\nLa FCPTS"
)


def unknown_placeholders(text: str) -> list[str]:
    """The `{…}` of a reminder text that are not among PLACEHOLDERS (refused by the form)."""
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    # Plain replacement, never str.format: a reminder text is typed by a user.
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class PlannedMessage:
    participant: Participant
    email: str
    rule: ReminderRule | None
    sequence: int
    response: Response | None = None  # the participant's response, read with the audience

    def __str__(self) -> str:
        what = f"relance {self.sequence} (règle {self.rule.pk})" if self.rule else "invitation"
        return f"{self.participant.cpts.code} {self.participant.cpts.name} → {self.email} : {what}"


def invitations_send(*, campaign: Campaign, dry_run: bool = False) -> list[PlannedMessage]:
    """One invitation per contact of each participant not yet invited at that address; an
    account never activated first gets its activation link. Returns what was (or would be) sent."""
    if campaign.status != Status.OPEN:
        raise CampaignError("Les invitations partent d'une campagne ouverte.")
    planned = []
    for participant in _reachable_participants(campaign):
        invited = {m.email for m in participant.messages.all() if m.rule_id is None}
        if participant.invited_at and not invited:
            continue  # marked invited without a message (the demo data, an invitation by hand)
        for email in selectors.contact_emails(participant):
            if email not in invited:
                planned.append(PlannedMessage(participant, email, None, 0))
    if not dry_run:
        planned = _send_all(planned)
    return planned


def reminders_send_due(
    *, today: dt.date | None = None, dry_run: bool = False
) -> list[PlannedMessage]:
    """Send every reminder due today (hourly beat task and `send_due_reminders`).

    The audience is decided now, from each response's state; a contact who unsubscribed, an
    excluded participant, a submitted response get nothing. Idempotent: a second run, or two
    runs at once, send each (participant, contact, rule, sequence) once."""
    today = today or timezone.localdate()
    planned = []
    for campaign in Campaign.objects.open_on(today).prefetch_related("reminder_rules"):
        rules = [rule for rule in campaign.reminder_rules.all() if _rule_due(rule, campaign, today)]
        if not rules:
            continue
        unsubscribed = set(campaign.unsubscriptions.values_list("email", flat=True))
        responses = {r.cpts_id: r for r in Response.objects.filter(campaign=campaign)}
        for participant in _reachable_participants(campaign):
            response = responses.get(participant.cpts_id)
            audience = _audience_of(response.status if response else None)
            emails = [e for e in selectors.contact_emails(participant) if e not in unsubscribed]
            for rule in rules:
                if rule.audience != audience:
                    continue
                for email in emails:
                    sent = [m for m in participant.messages.all() if m.rule_id == rule.pk]
                    sent = [m for m in sent if m.email == email]
                    if len(sent) >= rule.max_sends:
                        continue
                    last = max((m.created_at for m in sent), default=None)
                    if last and (today - timezone.localdate(last)).days < rule.min_days_between:
                        continue
                    planned.append(
                        PlannedMessage(participant, email, rule, len(sent) + 1, response)
                    )
    if not dry_run:
        planned = _send_all(planned)
    return planned


SEND_CHUNK = 200


def _send_all(planned: list[PlannedMessage]) -> list[PlannedMessage]:
    """Send in transactions of SEND_CHUNK messages (each one its own savepoint), rather than
    paying a commit for every message; deliveries are queued as each chunk commits."""
    sent = []
    for start in range(0, len(planned), SEND_CHUNK):
        chunk = planned[start : start + SEND_CHUNK]
        with transaction.atomic():
            read = _ChunkReads.of(chunk)
            sent += [item for item in chunk if _send(item, read)]
    return sent


@dataclass(frozen=True)
class _ChunkReads:
    """What a chunk's messages say and do, read at send time in at most four queries however
    many messages there are (read once per message, they were most of its queries)."""

    # {participant id: (its response, the response's progress in percent)}
    responses: dict[int, tuple[Response | None, int]]
    # {address: the first active account (by id) of an invitation's address}
    accounts: dict[str, User]

    @classmethod
    def of(cls, chunk: list[PlannedMessage]) -> "_ChunkReads":
        responses = {item.participant.pk: item.response for item in chunk if item.rule}
        invited = [item for item in chunk if item.rule is None]
        # Invitations are not planned with the responses.
        participants = [item.participant for item in invited]
        found = {
            (r.campaign_id, r.cpts_id): r
            for r in Response.objects.filter(
                campaign_id__in={p.campaign_id for p in participants},
                cpts_id__in={p.cpts_id for p in participants},
            )
        }
        responses |= {p.pk: found.get((p.campaign_id, p.cpts_id)) for p in participants}
        progress = responses_progress(
            {
                response.pk: item.participant.campaign.questionnaire_id
                for item in chunk
                if (response := responses[item.participant.pk]) is not None
            }
        )
        accounts: dict[str, User] = {}
        emails = {item.email for item in invited}
        if emails:
            matching = Q()
            for email in emails:
                matching |= Q(email__iexact=email)
            # Addresses compared as `iexact` compares them (UPPER), each looked up once.
            by_address: dict[str, User] = {}
            for user in User.objects.filter(matching, is_active=True).order_by("pk"):
                by_address.setdefault(user.email.upper(), user)
            for email in emails:
                if (user := by_address.get(email.upper())) is not None:
                    accounts[email] = user
        return cls(
            responses={
                participant_id: (response, progress[response.pk].percent if response else 0)
                for participant_id, response in responses.items()
            },
            accounts=accounts,
        )


def unsubscribe(*, campaign: Campaign, email: str) -> None:
    Unsubscription.objects.get_or_create(campaign=campaign, email=email.lower())


UNSUBSCRIBE_SALT = "campaigns.unsubscribe"


def unsubscribe_token(campaign: Campaign, email: str) -> str:
    return signing.dumps({"campaign": campaign.pk, "email": email}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[Campaign, str] | None:
    """The campaign and address a link was made for; None for a forged or damaged link."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        campaign = Campaign.objects.get(pk=data["campaign"])
        return campaign, str(data["email"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, Campaign.DoesNotExist):
        return None


def _reachable_participants(campaign: Campaign) -> QuerySet[Participant]:
    return (
        campaign.participants.filter(excluded_at__isnull=True)
        .select_related("cpts")
        .prefetch_related("contacts", "messages")
        .order_by("cpts__code")
    )


def _rule_due(rule: ReminderRule, campaign: Campaign, today: dt.date) -> bool:
    if rule.anchor == ReminderRule.Anchor.AFTER_OPENING:
        return today >= campaign.opens_on + dt.timedelta(days=rule.days)
    return today >= campaign.closes_on - dt.timedelta(days=rule.days)


def _audience_of(status: str | None) -> str | None:
    if status is None:
        return ReminderRule.Audience.NOT_STARTED
    if status == Response.Status.DRAFT:
        return ReminderRule.Audience.IN_PROGRESS
    return None  # submitted: nobody is reminded


def _send(item: PlannedMessage, read: _ChunkReads) -> bool:
    """Record the message with its e-mail, queued at commit; False when another run recorded
    it first (the savepoint then takes the e-mail back too)."""
    participant, campaign = item.participant, item.participant.campaign
    try:
        with transaction.atomic():
            if item.rule is None:
                _activate_first(read.accounts.get(item.email))
            message = message_send(
                key=f"campaign:{campaign.pk}:{participant.pk}:{item.email}:"
                f"{item.rule.pk if item.rule else 'invitation'}:{item.sequence}",
                to=item.email,
                template="campaign_reminder" if item.rule else "campaign_invitation",
                context=_message_context(item, *read.responses[item.participant.pk]),
            )
            CampaignMessage.objects.create(
                participant=participant,
                email=item.email,
                rule=item.rule,
                sequence=item.sequence,
                message=message,
            )
            if item.rule is None and participant.invited_at is None:
                participant.invited_at = timezone.now()
                participant.save(update_fields=["invited_at"])
    except IntegrityError:
        return False
    return True


def _activate_first(user: User | None) -> None:
    if user is not None and not user.has_usable_password():
        activation_send(user=user, event="campaign-invitation")


def _message_context(item: PlannedMessage, response: Response | None, share: int) -> dict:
    participant, campaign = item.participant, item.participant.campaign
    if response is None:
        link = absolute_url(reverse("questionnaire:my_cpts"))
    else:
        link = absolute_url(reverse("questionnaire:review", args=[response.pk]))
    values = {
        "cpts": participant.cpts.name,
        "campagne": campaign.name,
        "cloture": date_format(campaign.closes_on, "j F Y"),
        "avancement": f"{share} %",
        "lien": link,
    }
    context = {
        **values,
        "link": link,
        "unsubscribe_url": absolute_url(
            reverse("campaigns:unsubscribe", args=[unsubscribe_token(campaign, item.email)])
        ),
    }
    if item.rule is not None:
        context["subject"] = fill_placeholders(item.rule.subject, values)
        context["body"] = fill_placeholders(item.rule.body, values)
    return context


# --- The weekly digest ----------------------------------------------------------------------


def digest_subscribe(*, user: User, subscribed: bool) -> None:
    if subscribed:
        DigestSubscription.objects.get_or_create(user=user)
    else:
        DigestSubscription.objects.filter(user=user).delete()


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Monday beat task: each subscriber's digest of the past week, once per ISO week."""
    now = now or timezone.now()
    year, week, _day = timezone.localdate(now).isocalendar()
    sent = 0
    subscribers = DigestSubscription.objects.select_related("user").filter(user__is_active=True)
    for subscription in subscribers:
        user = subscription.user
        if not can_view_dashboards(user):
            continue  # a role changed since: the digest follows the dashboards' audience
        digests = selectors.digest_for(user, since=now - dt.timedelta(days=7))
        if not digests:
            continue
        message = message_send(
            key=f"digest:{user.pk}:{year}-W{week:02d}",
            to=user.email,
            template="campaign_digest",
            context={
                "digests": digests,
                "user_name": user.get_full_name() or user.username,
                "account_url": absolute_url(reverse("campaigns:digest")),
            },
        )
        sent += message is not None
    return sent
