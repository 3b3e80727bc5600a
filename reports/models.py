from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from questionnaire.models import Response
from scoring.models import ScoringGrid

# A bundle of reports is an exports.ExportJob whose parameters have this kind: it shares the
# exports' progress page, requester-only download, expiry and purge.
BUNDLE_KIND = "reports.bundle"


class Report(models.Model):
    """One rendering of a response's maturity report, named by the digest of its inputs.

    `key` is the SHA-256 of the report's HTML (every figure, answer, median and name it shows),
    its stylesheet and the WeasyPrint version: a report whose inputs have not changed has the
    same key, and its PDF is served again without rendering. The HTML is kept until the PDF is
    rendered, so the worker renders exactly what the request saw.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("En préparation")
        DONE = "done", _("Prêt")
        FAILED = "failed", _("Échec")

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="reports")
    grid = models.ForeignKey(ScoringGrid, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("empreinte des données"), max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    html = models.TextField(blank=True)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    pages = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("rapport PDF")
        verbose_name_plural = _("rapports PDF")

    def __str__(self) -> str:
        return f"{self.response} – {self.key[:12]}"
