from functools import cached_property

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from questionnaire.models import (
    ConstraintType,
    Dimension,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from scoring.grid import GridSpec


class ScoringGrid(models.Model):
    """One published version of the scoring grid, loaded from `scoring/grids/`.

    A version with stored scores is frozen: a change is a new file and a new version.
    """

    code = models.SlugField(_("version"), max_length=50, unique=True)
    questionnaire = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="scoring_grids",
        verbose_name=_("version du questionnaire"),
    )
    title = models.CharField(_("titre"), max_length=200)
    checksum = models.CharField(_("empreinte du fichier"), max_length=64)
    definition = models.JSONField(_("grille chargée"))
    loaded_at = models.DateTimeField(_("chargée le"), default=timezone.now)

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = _("grille de score")
        verbose_name_plural = _("grilles de score")

    def __str__(self) -> str:
        return self.code

    @cached_property
    def spec(self) -> GridSpec:
        return GridSpec.from_data(self.definition, self.questionnaire.definition)

    @cached_property
    def level_labels(self) -> dict[str, str]:
        return {level["code"]: level["label"] for level in self.definition["levels"]}


class ResponseScore(models.Model):
    """The scores of one submitted response under one grid version."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="scores")
    grid = models.ForeignKey(ScoringGrid, on_delete=models.PROTECT, related_name="scores")
    index = models.DecimalField(_("indice global"), max_digits=5, decimal_places=2, null=True)
    level = models.SlugField(_("niveau"), max_length=50, blank=True)
    computed_at = models.DateTimeField(_("calculé le"), default=timezone.now)

    class Meta:
        ordering = ["response", "grid"]
        verbose_name = _("score d'une réponse")
        constraints = [
            models.UniqueConstraint(fields=["response", "grid"], name="score_one_per_grid"),
            models.CheckConstraint(
                condition=models.Q(index__isnull=True) | models.Q(index__gte=0, index__lte=100),
                name="score_index_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.response} – {self.grid}"

    @property
    def level_label(self) -> str:
        return self.grid.level_labels.get(self.level, "")


class AreaScore(models.Model):
    """A sub-dimension, a matrix cell (dimension × constraint type) or a dimension.

    `value` is 100 × earned / possible, or NULL when no scored question applies: "not assessed".
    """

    class Kind(models.TextChoices):
        SUBDIMENSION = "subdimension", _("Sous-dimension")
        CELL = "cell", _("Case de la matrice")
        DIMENSION = "dimension", _("Dimension")

    score = models.ForeignKey(ResponseScore, on_delete=models.CASCADE, related_name="areas")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Without a database constraint or index, on purpose: checking these two keys at commit was
    # most of a rescore's foreign-key work (about 30 rows per response; README, "Performance"),
    # and what they point at never goes while they exist. A questionnaire version's dimensions
    # are only replaced while it has no responses (`questionnaire_load`), so before any score,
    # and Django's PROTECT still refuses to delete one that a score names (a scan of this
    # table, for that rare reload only; every read goes through `score`).
    dimension = models.ForeignKey(
        Dimension, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    constraint = models.CharField(max_length=20, choices=ConstraintType.choices, blank=True)
    subdimension = models.ForeignKey(
        SubDimension,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    earned = models.DecimalField(max_digits=12, decimal_places=4)
    possible = models.DecimalField(max_digits=12, decimal_places=4)
    value = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True)

    class Meta:
        ordering = ["score", "kind", "dimension__position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(value__gte=0, value__lte=100),
                name="area_value_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} – {self.kind}"

    @property
    def key(self) -> tuple:
        """Needs `dimension` and `subdimension` loaded (select_related)."""
        return area_key(
            self.kind,
            self.dimension.code,
            self.constraint,
            self.subdimension.code if self.subdimension_id else "",
        )


# An area is named by codes, so that areas of different scores (peers, campaigns, exports) match
# whether they are read as model instances (`AreaScore.key`) or as `values_list` rows.


def dimension_key(dimension: str) -> tuple:
    return (AreaScore.Kind.DIMENSION, dimension)


def cell_key(dimension: str, constraint: str) -> tuple:
    return (AreaScore.Kind.CELL, dimension, constraint)


def subdimension_key(subdimension: str) -> tuple:
    return (AreaScore.Kind.SUBDIMENSION, subdimension)


def area_key(kind: str, dimension: str, constraint: str, subdimension: str | None) -> tuple:
    if kind == AreaScore.Kind.SUBDIMENSION:
        return subdimension_key(subdimension or "")
    if kind == AreaScore.Kind.CELL:
        return cell_key(dimension, constraint)
    return dimension_key(dimension)
