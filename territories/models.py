from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """A French administrative region, by its official INSEE code."""

    code = models.CharField(_("code INSEE"), max_length=3, unique=True)
    name = models.CharField(_("nom"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("région")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    code = models.CharField(_("code INSEE"), max_length=3, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departments", verbose_name=_("région")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("département")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Cpts(models.Model):
    class Stage(models.TextChoices):
        # The ARS Île-de-France gradation used by the thesis (lines 951-956), most advanced first.
        RUNNING = "fonctionnement", _("CPTS en fonctionnement")
        ENGINEERING = "ingenierie", _("Ingénierie de projet en cours")
        FORMALISING = "formalisation", _("Initiative connue de l'ARS : en début de formalisation")
        DECLARED = (
            "declaration",
            _("Initiative connue de l'ARS : déclaration d'intérêt sans formalisation"),
        )

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="cpts", verbose_name=_("département")
    )
    stage = models.CharField(_("stade"), max_length=20, choices=Stage.choices)
    created_on = models.DateField(_("date de création"), null=True, blank=True)
    aci_signed_on = models.DateField(_("date de signature de l'ACI"), null=True, blank=True)
    legal_form = models.CharField(
        _("forme juridique"), max_length=100, default="Association loi 1901", blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("CPTS")
        verbose_name_plural = _("CPTS")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(aci_signed_on__isnull=True)
                | models.Q(created_on__isnull=True)
                | models.Q(aci_signed_on__gte=models.F("created_on")),
                name="cpts_aci_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TerritoryIndicator(models.Model):
    """Public statistics on a CPTS's territory for one year (thesis Tables 3 and 5)."""

    cpts = models.ForeignKey(Cpts, on_delete=models.CASCADE, related_name="indicators")
    year = models.PositiveSmallIntegerField(_("année"))
    population = models.PositiveIntegerField(_("population couverte"), null=True, blank=True)
    area_km2 = models.DecimalField(
        _("superficie (km²)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    share_aged_80_plus = models.DecimalField(
        _("% des 80 ans et plus"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    share_under_17 = models.DecimalField(
        _("% des moins de 17 ans"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    unemployment_rate = models.DecimalField(
        _("taux de chômage (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    gp_count = models.PositiveIntegerField(_("médecins généralistes"), null=True, blank=True)
    share_gp_over_60 = models.DecimalField(
        _("% des généralistes de plus de 60 ans"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    gp_active_patients = models.PositiveIntegerField(
        _("file active moyenne par généraliste"), null=True, blank=True
    )
    specialist_count = models.PositiveIntegerField(
        _("médecins spécialistes libéraux"), null=True, blank=True
    )
    share_without_gp = models.DecimalField(
        _("% des 17 ans et plus sans médecin traitant"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    share_chronic_condition = models.DecimalField(
        _("% des 17 ans et plus en ALD"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    flu_vaccination_rate = models.DecimalField(
        _("% des 65 ans et plus vaccinés contre la grippe"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    er_visits_per_100 = models.DecimalField(
        _("passages aux urgences non suivis d'hospitalisation pour 100 usagers"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["cpts", "year"]
        verbose_name = _("indicateur de territoire")
        constraints = [
            models.UniqueConstraint(fields=["cpts", "year"], name="indicator_one_per_cpts_year"),
            models.CheckConstraint(
                condition=models.Q(area_km2__isnull=True) | models.Q(area_km2__gt=0),
                name="indicator_area_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cpts} – {self.year}"

    @property
    def density(self):
        """Inhabitants per km², derived so that it can never disagree with its inputs."""
        if self.population is None or not self.area_km2:
            return None
        return round(self.population / float(self.area_km2), 1)

    @property
    def gps_per_10000(self):
        if not self.population or self.gp_count is None:
            return None
        return round(self.gp_count * 10000 / self.population, 1)
