"""The recommendations library (versioned data) and the CPTS's action plans."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from questionnaire.models import Response, SubDimension
from scoring.models import ScoringGrid


class RecommendationLibrary(models.Model):
    """One published version of the recommendations, loaded from `improvement/recommendations/`.

    A version that an action of a plan was picked from is frozen: a change is a new file.
    """

    code = models.SlugField(_("version"), max_length=50, unique=True)
    grid = models.ForeignKey(
        ScoringGrid,
        on_delete=models.PROTECT,
        related_name="recommendation_libraries",
        verbose_name=_("grille de score"),
    )
    title = models.CharField(_("titre"), max_length=200)
    checksum = models.CharField(_("empreinte du fichier"), max_length=64)
    definition = models.JSONField(_("recommandations chargées"))
    loaded_at = models.DateTimeField(_("chargée le"), default=timezone.now)

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = _("bibliothèque de recommandations")
        verbose_name_plural = _("bibliothèques de recommandations")

    def __str__(self) -> str:
        return self.code


class ActionPlan(models.Model):
    """The action plan a CPTS writes after one submitted response.

    Private to the CPTS's team; the coordinator may share it, read-only, with the ARS and the
    CPAM whose territory covers the CPTS. The federation never reads a plan.
    """

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="action_plan")
    shared_with_territory = models.BooleanField(_("partagé avec l'ARS et la CPAM"), default=False)
    shared_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan d'action")

    def __str__(self) -> str:
        return f"Plan – {self.response}"


class Action(models.Model):
    class Status(models.TextChoices):
        TODO = "a_faire", _("à faire")
        DOING = "en_cours", _("en cours")
        DONE = "fait", _("fait")
        DROPPED = "abandonne", _("abandonné")

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="actions")
    subdimension = models.ForeignKey(
        SubDimension, on_delete=models.PROTECT, related_name="+", verbose_name=_("sous-dimension")
    )
    title = models.CharField(_("action"), max_length=300)
    owner_name = models.CharField(_("responsable"), max_length=150, blank=True)
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    means = models.TextField(_("moyens"), blank=True)
    indicator = models.CharField(_("indicateur de suivi"), max_length=300, blank=True)
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.TODO
    )
    notes = models.TextField(_("notes"), blank=True)
    # Where the action came from, when it was picked from the library (else written by hand).
    library = models.ForeignKey(
        RecommendationLibrary, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suggestion_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "due_on", "pk"]
        verbose_name = _("action")

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.TODO, self.Status.DOING)


class PlanReview(models.Model):
    """The team said where the plan stands when it started its next campaign's response."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="reviews")
    next_response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "next_response"], name="plan_review_once"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} – {self.next_response}"
