"""Collegial assessment: each rater answers alone, then the team agrees on the official answers.

A response is *collegial* when it has a `CollegialAssessment`; without one it is answered
directly (the default). Individual ratings (`Rating`, `RatingAnswer`) are never the response's
answers: only what the synthesis writes through `questionnaire.services.answer_save` is scored,
exported and shown outside the team. They are deleted `COLLEGIAL_RATING_RETENTION_DAYS` after
the response is submitted; the number of raters stays.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from questionnaire.models import Question, Response


class CollegialAssessment(models.Model):
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="collegial")
    synthesis_opens_on = models.DateField(_("ouverture de la synthèse"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the individual ratings are deleted (retention): the count of raters who had
    # finished is kept, for the "évaluation collégiale, n évaluateurs" mention.
    ratings_deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_rater_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("évaluation collégiale")
        verbose_name_plural = _("évaluations collégiales")

    def __str__(self) -> str:
        return f"{self.response} (collégiale)"

    def synthesis_is_open(self, on=None) -> bool:
        return (on or timezone.localdate()) >= self.synthesis_opens_on

    @property
    def rater_count(self) -> int:
        """Raters whose finished rating the synthesis counts."""
        if self.ratings_deleted_at:
            return self.deleted_rater_count
        return self.ratings.filter(finished_at__isnull=False).count()


class Rating(models.Model):
    """One rater's individual answers; seen by that rater alone until the synthesis opens."""

    assessment = models.ForeignKey(
        CollegialAssessment, on_delete=models.CASCADE, related_name="ratings"
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collegial_ratings"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assessment", "invited_at", "pk"]
        verbose_name = _("évaluation individuelle")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "rater"], name="rating_one_per_rater"),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} – {self.rater}"


class RatingAnswer(models.Model):
    """One answer of a rating, stored exactly like `questionnaire.Answer` (same rules)."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    value = models.JSONField()
    other_text = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rating", "question"], name="rating_answer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rating} – {self.question}"
