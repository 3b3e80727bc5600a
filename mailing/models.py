from django.db import models
from django.utils.translation import gettext_lazy as _


class SentMessage(models.Model):
    """One e-mail for one event: the unique `key` is what makes a message go out once only.

    The subject and bodies are rendered when the message is queued, so that what is delivered
    (possibly after retries) is exactly what was decided at the time of the event.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente d'envoi")
        SENT = "sent", _("Envoyé")
        REFUSED = "refused", _("Adresse refusée par le serveur")
        FAILED = "failed", _("Échec après plusieurs tentatives")

    key = models.CharField(_("clé de l'événement"), max_length=200, unique=True)
    to = models.EmailField(_("destinataire"))
    template = models.CharField(_("modèle"), max_length=100)
    subject = models.CharField(_("objet"), max_length=250)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"))
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("dernière tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("e-mail envoyé")
        verbose_name_plural = _("e-mails envoyés")
        indexes = [
            models.Index(fields=["to", "template", "created_at"], name="sentmessage_to_template"),
            models.Index(fields=["status"], name="sentmessage_status"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.to} ({self.get_status_display()})"
