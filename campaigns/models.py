"""Who a campaign asks: its participants (the denominator of every response rate) and the
contacts who receive its e-mails. The campaign itself is `questionnaire.Campaign`."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Participant(models.Model):
    """A CPTS asked by a campaign. An excluded participant (dissolved, merged…) stays listed
    with its reason but leaves the denominator."""

    campaign = models.ForeignKey(
        "questionnaire.Campaign", on_delete=models.CASCADE, related_name="participants"
    )
    cpts = models.ForeignKey(
        "territories.Cpts", on_delete=models.PROTECT, related_name="participations"
    )
    added_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)
    invited_at = models.DateTimeField(_("invitée le"), null=True, blank=True)
    excluded_reason = models.CharField(_("motif d'exclusion"), max_length=200, blank=True)
    excluded_at = models.DateTimeField(_("exclue le"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["campaign", "cpts__name"]
        verbose_name = _("participant")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "cpts"], name="participant_once"),
            models.CheckConstraint(
                condition=models.Q(excluded_at__isnull=True, excluded_reason="")
                | (models.Q(excluded_at__isnull=False) & ~models.Q(excluded_reason="")),
                name="participant_exclusion_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cpts} – {self.campaign}"

    @property
    def excluded(self) -> bool:
        return self.excluded_at is not None


class ParticipantContact(models.Model):
    """An address chosen for a participant's e-mails. A participant without any is reached
    through its CPTS's coordinators (`campaigns.selectors.contact_emails`)."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField(_("adresse e-mail"))

    class Meta:
        ordering = ["email"]
        verbose_name = _("contact d'un participant")
        constraints = [
            models.UniqueConstraint(fields=["participant", "email"], name="contact_once"),
        ]

    def __str__(self) -> str:
        return self.email


class ReminderRule(models.Model):
    """When to remind which participants, decided again at each send from the response's state:
    a CPTS that submitted in the meantime is never reminded."""

    class Audience(models.TextChoices):
        NOT_STARTED = "not_started", _("CPTS qui n'ont pas commencé")
        IN_PROGRESS = "in_progress", _("CPTS qui ont commencé sans soumettre")

    class Anchor(models.TextChoices):
        AFTER_OPENING = "after_opening", _("jours après l'ouverture")
        BEFORE_CLOSING = "before_closing", _("jours avant la clôture")

    campaign = models.ForeignKey(
        "questionnaire.Campaign", on_delete=models.CASCADE, related_name="reminder_rules"
    )
    audience = models.CharField(_("destinataires"), max_length=20, choices=Audience.choices)
    days = models.PositiveSmallIntegerField(_("nombre de jours"))
    anchor = models.CharField(_("à compter de"), max_length=20, choices=Anchor.choices)
    max_sends = models.PositiveSmallIntegerField(_("envois au plus par contact"), default=1)
    min_days_between = models.PositiveSmallIntegerField(
        _("jours au moins entre deux envois"), default=7
    )
    subject = models.CharField(_("objet"), max_length=200)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["campaign", "pk"]
        verbose_name = _("règle de relance")
        constraints = [
            models.CheckConstraint(condition=models.Q(max_sends__gte=1), name="rule_sends_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} — {self.days} {self.get_anchor_display()}"


class CampaignMessage(models.Model):
    """One e-mail of a campaign to one contact of a participant: its invitation (no rule) or the
    n-th reminder of a rule. The unique constraints are what make a message go out once, however
    many runs or workers decide to send it."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="messages")
    email = models.EmailField()
    rule = models.ForeignKey(
        ReminderRule, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    sequence = models.PositiveSmallIntegerField(default=0)
    message = models.ForeignKey(
        "mailing.SentMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("e-mail de campagne")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "email"],
                condition=models.Q(rule__isnull=True),
                name="invitation_once",
            ),
            models.UniqueConstraint(
                fields=["participant", "email", "rule", "sequence"],
                condition=models.Q(rule__isnull=False),
                name="reminder_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({'relance ' + str(self.sequence) if self.rule_id else 'invitation'})"


class Unsubscription(models.Model):
    """A contact who asked for no more reminders of this campaign (invitations were sent)."""

    campaign = models.ForeignKey(
        "questionnaire.Campaign", on_delete=models.CASCADE, related_name="unsubscriptions"
    )
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("désinscription des relances")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="unsubscribe_once"),
        ]

    def __str__(self) -> str:
        return f"{self.email} – {self.campaign}"


class DigestSubscription(models.Model):
    """ARS, CPAM and FCPTS users who asked for the Monday digest of the campaigns in their
    scope (opt-in, from their account page)."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="campaign_digest"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("abonnement au résumé hebdomadaire")

    def __str__(self) -> str:
        return str(self.user)
