from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

DELETED_USER_LABEL = _("utilisateur supprimé")


class User(AbstractUser):
    """A portal user; what they may see is decided by `accounts.scoping` from the role."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinateur·rice de CPTS")
        # Answers the CPTS's drafts and sees its results; never submits nor manages the team.
        MEMBER = "member", _("Membre de l'équipe d'une CPTS")
        ARS = "ars", _("Agent d'ARS (une région)")
        CPAM = "cpam", _("Agent de CPAM (un département)")
        FCPTS = "fcpts", _("Administrateur·rice FCPTS (national)")

    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        "territories.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("région (ARS)"),
    )
    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("département (CPAM)"),
    )
    cpts = models.ManyToManyField(
        "territories.Cpts",
        through="Membership",
        blank=True,
        related_name="coordinators",
        verbose_name=_("CPTS coordonnées"),
    )
    # Set when the user deleted their account (accounts.services.account_delete): the row stays,
    # so that answers and history keep their author, but it names nobody any more.
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True, editable=False)
    # Set when the inactivity warning is sent (accounts.services.inactive_accounts_process).
    inactivity_warned_at = models.DateTimeField(
        _("averti·e de son inactivité le"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("utilisateur")
        constraints = [
            # One account per address: people log in with it, whatever its case.
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
            # The territory of a role is part of the role: an ARS officer without a region
            # or a CPAM agent without a department would see nothing, or worse, everything.
            models.CheckConstraint(
                condition=~models.Q(role="ars")
                | models.Q(region__isnull=False, department__isnull=True),
                name="user_ars_has_region",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="cpam")
                | models.Q(department__isnull=False, region__isnull=True),
                name="user_cpam_has_department",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["ars", "cpam"])
                | models.Q(region__isnull=True, department__isnull=True),
                name="user_territory_only_for_ars_cpam",
            ),
        ]

    def __str__(self) -> str:
        # Every place that prints a user (history pages, the admin, `{{ record.history_user }}`)
        # says "utilisateur supprimé" for a deleted account, never its opaque username.
        return str(DELETED_USER_LABEL) if self.anonymised_at else self.get_username()

    @property
    def display_name(self) -> str:
        """The name shown to other users: full name, else username; a deleted account's label."""
        if self.anonymised_at:
            return str(DELETED_USER_LABEL)
        return self.get_full_name() or self.get_username()


# The roles of a CPTS's team: they belong to CPTS through memberships.
TEAM_ROLES = (User.Role.COORDINATOR, User.Role.MEMBER)


class Membership(models.Model):
    """A person of a CPTS's team (coordinator or member), with their function in the CPTS."""

    class Function(models.TextChoices):
        EMPLOYED_COORDINATOR = "coordinateur_salarie", _("Coordinateur·rice salarié·e")
        PRESIDENT = "president", _("Président·e")
        BOARD_MEMBER = "membre_bureau", _("Membre du bureau")
        PROFESSIONAL = "professionnel", _("Professionnel·le de santé adhérent·e")
        OTHER = "autre", _("Autre")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    cpts = models.ForeignKey(
        "territories.Cpts", on_delete=models.CASCADE, related_name="memberships"
    )
    function = models.CharField(
        _("fonction dans la CPTS"),
        max_length=30,
        choices=Function.choices,
        blank=True,
        default="",
        db_default="",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appartenance à une CPTS")
        constraints = [
            models.UniqueConstraint(fields=["user", "cpts"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.cpts}"


class PasswordResetRequest(models.Model):
    """One request of the forgotten-password form, known address or not: the rate limit
    counts these (per address and per client IP), and the daily beat task forgets them."""

    email = models.CharField(max_length=254)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("demande de nouveau mot de passe")

    def __str__(self) -> str:
        return f"{self.email} ({self.requested_at:%Y-%m-%d %H:%M})"
