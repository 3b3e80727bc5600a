from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Membership


class QuestionnaireVersion(models.Model):
    """One published version of the questionnaire, loaded from `questionnaire/definitions/`.

    A version that has responses is frozen: a change is a new file and a new version.
    """

    code = models.SlugField(_("version"), max_length=50, unique=True)
    title = models.CharField(_("titre"), max_length=200)
    source = models.TextField(_("source"), blank=True)
    checksum = models.CharField(_("empreinte du fichier"), max_length=64)
    definition = models.JSONField(_("définition chargée"))
    loaded_at = models.DateTimeField(_("chargé le"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("version du questionnaire")

    def __str__(self) -> str:
        return self.code


class ConstraintType(models.TextChoices):
    # Figure 6 of the thesis: the columns of the maturity matrix.
    INTERNAL = "interne", _("Contraintes internes")
    EXTERNAL = "externe", _("Contraintes externes")
    ENVIRONMENTAL = "environnementale", _("Contraintes environnementales")


class Dimension(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.CASCADE, related_name="dimensions"
    )
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="dimension_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class SubDimension(models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="subdimensions")
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=150)
    constraint = models.CharField(max_length=20, choices=ConstraintType.choices)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["dimension__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="subdimension_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Question(models.Model):
    class Type(models.TextChoices):
        SINGLE_CHOICE = "single_choice", _("Choix unique")
        MULTIPLE_CHOICE = "multiple_choice", _("Choix multiple")
        NUMBER = "number", _("Nombre")
        MONTH_YEAR = "month_year", _("Mois et année")
        TEXT = "text", _("Texte libre")
        ROLE_TABLE = "role_table", _("Tableau par rôle")

    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.CASCADE, related_name="questions"
    )
    subdimension = models.ForeignKey(
        SubDimension, on_delete=models.PROTECT, related_name="questions"
    )
    number = models.PositiveSmallIntegerField()
    variable = models.SlugField(max_length=30)
    type = models.CharField(max_length=20, choices=Type.choices)
    text = models.TextField()
    help_text = models.TextField(blank=True)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    condition_question = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="dependents"
    )
    condition_values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="question_number_unique"),
            models.UniqueConstraint(
                fields=["version", "variable"], name="question_variable_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Q{self.number}"

    @property
    def is_choice(self) -> bool:
        return self.type in (self.Type.SINGLE_CHOICE, self.Type.MULTIPLE_CHOICE)


class Option(models.Model):
    """A proposed answer; for a role table (Q17), rows are options of kind ROW."""

    class Kind(models.TextChoices):
        CHOICE = "choice", _("Modalité")
        ROW = "row", _("Ligne du tableau")

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHOICE)
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField()
    exclusive = models.BooleanField(default=False)
    requires_text = models.BooleanField(default=False)
    added = models.BooleanField(
        default=False, help_text="Absent from the thesis, added by a recorded decision."
    )

    class Meta:
        ordering = ["question", "kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "kind", "code"], name="option_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class CampaignQuerySet(models.QuerySet):
    def open_on(self, day=None) -> "CampaignQuerySet":
        """Campaigns taking answers on that day (default today): opened, and within their dates."""
        today = day or timezone.localdate()
        return self.filter(status=Campaign.Status.OPEN, opens_on__lte=today, closes_on__gte=today)


class Campaign(models.Model):
    """A campaign's life: draft → open → closed → archived (`campaigns.services`).

    The questionnaire version is chosen in draft and frozen at opening. A campaign takes answers
    only while it is open *and* within its dates: opening and closing follow the dates (daily beat
    task) unless the federation opens or closes it by hand, which moves the date to that day.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        OPEN = "open", _("Ouverte")
        CLOSED = "closed", _("Close")
        ARCHIVED = "archived", _("Archivée")

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), max_length=50, unique=True)
    year = models.PositiveSmallIntegerField(_("année"))
    questionnaire = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("version du questionnaire"),
    )
    opens_on = models.DateField(_("ouverture"))
    closes_on = models.DateField(_("clôture"))
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    # The scoring grid version its submissions are scored with (a `scoring.ScoringGrid` code,
    # kept as text so that the questionnaire app does not depend on scoring). Chosen in draft;
    # at opening, the latest grid of the questionnaire if none was chosen; frozen from then on.
    grid_code = models.SlugField(_("grille de scores"), max_length=50, blank=True)
    history = HistoricalRecords()

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "slug"]
        verbose_name = _("campagne")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="campaign_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def calendar_status(cls, opens_on, closes_on, today=None) -> "Campaign.Status":
        """The state these dates give a campaign that nobody opened or closed by hand."""
        today = today or timezone.localdate()
        if today < opens_on:
            return cls.Status.DRAFT
        return cls.Status.OPEN if today <= closes_on else cls.Status.CLOSED

    def is_open(self, on=None) -> bool:
        today = on or timezone.localdate()
        return self.status == self.Status.OPEN and self.opens_on <= today <= self.closes_on


class Response(models.Model):
    """The questionnaire of one CPTS for one campaign."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SUBMITTED = "submitted", _("Soumise")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="responses")
    cpts = models.ForeignKey("territories.Cpts", on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The submitter's function in the CPTS at that moment (Membership.Function): the share of
    # employees and board members among respondents, as the federation's survey reports it.
    submitted_by_function = models.CharField(
        _("fonction de la personne qui a soumis"),
        max_length=30,
        choices=Membership.Function.choices,
        blank=True,
        default="",
        # Rows written in bulk outside the ORM (the bench's COPY) get it too.
        db_default="",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["campaign", "cpts"]
        verbose_name = _("réponse")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "cpts"], name="response_one_per_campaign"),
            models.CheckConstraint(
                condition=models.Q(status="draft", submitted_at__isnull=True)
                | models.Q(status="submitted", submitted_at__isnull=False),
                name="response_submitted_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cpts} – {self.campaign}"


class Answer(models.Model):
    """One answer, stored as plain JSON so exports and scores read it without the form layer.

    value: option code (single choice), list of option codes (multiple choice), integer
    (number), "YYYY-MM" (month/year), string (text), {row code: option code} (role table).
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField()
    other_text = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["response", "question__number"]
        verbose_name = _("réponse à une question")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.response} – {self.question}"


class CarriedAnswer(models.Model):
    """An answer taken over from the CPTS's previous campaign, waiting for the team to confirm it.

    It is not an `Answer`: scores, exports, progress and submission never count it. Confirming
    it (one click per section) or changing it writes a real answer through `answer_save` and
    deletes this row; a response is submitted only once none of its applicable questions is
    still waiting.
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="carried")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    value = models.JSONField()
    other_text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("réponse reprise à confirmer")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="carried_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.response} – {self.question} (reprise)"
