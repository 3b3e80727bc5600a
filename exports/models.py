from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Large export files are kept this long for their requester, then purged.
RETENTION = timedelta(days=7)
# A running job whose worker stopped is started again at most this many times in all, then
# failed with a message for its requester (settings EXPORTS_JOB_PENDING_GRACE and
# EXPORTS_JOB_STALE_AFTER say when a job counts as lost; exports.jobs reconciler).
MAX_ATTEMPTS = 3


def _expiry() -> datetime:
    return timezone.now() + RETENTION


class ExportJob(models.Model):
    """A cohort export built by a Celery worker, downloadable by its requester only."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    parameters = models.JSONField(_("paramètres"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("réponses à exporter"), default=0)
    done = models.PositiveIntegerField(_("réponses exportées"), default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    filename = models.CharField(_("nom du fichier"), max_length=200)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=_expiry, db_index=True)
    # Last sign of life: queued, started, or progress reported (exports.jobs reconciler).
    touched_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export de cohorte")
        verbose_name_plural = _("exports de cohorte")

    def __str__(self) -> str:
        return self.filename

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, round(100 * self.done / self.total)) if self.total else 0

    @property
    def restarted(self) -> bool:
        """Its worker stopped mid-way and the job was started again."""
        return self.attempts > 1

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
