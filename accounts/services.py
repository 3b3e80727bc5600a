"""Writes about people and accounts: one's own account (profile, second factor, deletion),
activation and password e-mails, teams, bulk accounts, inactivity.

Every e-mail goes through `mailing.services.message_send` under a key naming its event, so that
a repeated action (a re-import, a double click, a beat task run twice) sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import TEAM_ROLES, Membership, PasswordResetRequest, User
from accounts.selectors import pending_totp_device
from accounts.tokens import activation_tokens
from cpts_portal.queueing import send_after_commit
from cpts_portal.spreadsheet import TableInvalid, TableRow, read_table
from mailing.models import SentMessage
from mailing.services import absolute_url, message_send
from territories.models import Cpts, Department, Region

RECOVERY_CODE_COUNT = 10
DELETED_USERNAME_PREFIX = "supprime-"


class CodeRefused(Exception):
    """A second-factor code that was wrong, or tried too soon after wrong ones (French text)."""


class EmailTaken(Exception):
    """Another account already uses this address (compared without case)."""


def email_taken(*, email: str, user: User) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()


def account_update(
    *,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    functions: dict[int, str] | None = None,
) -> User:
    """One's name, e-mail and, per CPTS, function ({membership id: function code})."""
    email = email.strip()
    with transaction.atomic():
        if email_taken(email=email, user=user):
            raise EmailTaken(email)
        user.first_name, user.last_name, user.email = first_name.strip(), last_name.strip(), email
        user.save(update_fields=["first_name", "last_name", "email"])
        for membership in user.memberships.filter(pk__in=list(functions or {})):
            membership.function = functions[membership.pk]
            membership.save(update_fields=["function"])
    return user


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Deactivate and anonymise: the row stays, so answers and history keep an author, but it
    names nobody ("utilisateur supprimé"), can never log in and belongs to no CPTS."""
    old_username, old_email = user.username, user.email
    user.memberships.all().delete()
    # The e-mail log names the person too (the address, "Bonjour <name>" in the bodies).
    if old_email:
        SentMessage.objects.filter(to__iexact=old_email).update(
            to="", subject="(message d'un compte supprimé)", body_text="", body_html=""
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # The login journal names the user and their addresses.
    for journal in (AccessAttempt, AccessFailureLog, AccessLog):
        journal.objects.filter(username=old_username).delete()
    user.username = f"{DELETED_USERNAME_PREFIX}{secrets.token_hex(8)}"
    user.first_name = user.last_name = user.email = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.role, user.region, user.department = "", None, None
    user.last_login = None
    user.anonymised_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def second_factor_start(*, user: User) -> TOTPDevice:
    """The TOTP app the user is enrolling: a new secret, or the one they are already scanning."""
    device = pending_totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Application TOTP", confirmed=False)
    return device


def _check_code(device: Device, code: str) -> str | None:
    """None if `device` accepts `code`, else why not. Failures are recorded by django-otp
    (each one doubles the wait before the next try), so the caller must not roll them back."""
    allowed, refusal = device.verify_is_allowed()
    if not allowed:
        wait = math.ceil((refusal["locked_until"] - timezone.now()).total_seconds())
        return f"Trop de codes erronés : réessayez dans {max(wait, 1)} secondes."
    if device.verify_token(code):
        return None
    return "Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché."


def _normalise_code(code: str) -> str:
    return "".join(code.split()).lower()


def second_factor_verify(*, user: User, code: str) -> Device:
    """The second step of signing in: a 6-digit code from the app, or one recovery code (which
    is then used up). Returns the device that accepted it; raises CodeRefused."""
    code = _normalise_code(code)
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        problem = "Code incorrect." if device is None else _check_code(device, code)
    if problem:
        raise CodeRefused(problem)
    return device


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_confirm(*, device: TOTPDevice, code: str) -> list[str]:
    """Enrolment's last step: the first code from the app. If right, the app replaces any earlier
    one and comes with fresh recovery codes (returned, to be shown once); raises CodeRefused."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        problem = _check_code(device, _normalise_code(code))
    if problem:
        raise CodeRefused(problem)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return _recovery_codes_replace(device.user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    return _recovery_codes_replace(user)


@transaction.atomic
def second_factor_remove(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


class PeopleError(Exception):
    """A refused change about people; the message is French and for the user."""


def display_name(user: User) -> str:
    return user.get_full_name() or user.email or user.username


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


# --- Activation and password reset ------------------------------------------------------


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def activation_send(
    *, user: User, event: str, invited_by: User | None = None, cpts: list[Cpts] | None = None
) -> SentMessage | None:
    """E-mail an activation link (choose a password); `event` names why, once per event."""
    path = reverse(
        "accounts:activate",
        kwargs={"uidb64": _uid(user), "token": activation_tokens.make_token(user)},
    )
    cpts = cpts if cpts is not None else [m.cpts for m in user.memberships.select_related("cpts")]
    return message_send(
        key=f"activation:{user.pk}:{event}",
        to=user.email,
        template="activation",
        context={
            "user_name": display_name(user),
            "email": user.email,
            "activation_url": absolute_url(path),
            "valid_days": settings.ACCOUNT_ACTIVATION_DAYS,
            "expires_on": timezone.localdate()
            + dt.timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS),
            "invited_by": display_name(invited_by) if invited_by else "",
            "cpts_names": ", ".join(c.name for c in cpts),
        },
    )


def activation_resend(*, user: User, by: User | None = None) -> SentMessage | None:
    """A new activation link on request: at most one a minute (double clicks), and one a day
    when anonymous (the expired-link page)."""
    now = timezone.localtime()
    event = f"resend:{now:%Y%m%d%H%M}:{by.pk}" if by else f"resend:{now:%Y%m%d}"
    if user.has_usable_password() or not user.is_active:
        return None
    return activation_send(user=user, event=event)


def is_activated(user: User) -> bool:
    return user.has_usable_password()


def password_reset_request(*, email: str, ip_address: str | None) -> PasswordResetRequest:
    """Record a forgotten-password request and hand it to a worker. The page answers the same
    whatever the address, and in the same time: it never looks the address up itself."""
    request = PasswordResetRequest.objects.create(
        email=normalise_email(email), ip_address=ip_address
    )
    # Broker down at commit: this request gets no e-mail, and the person asks again.
    send_after_commit(_tasks().process_password_reset, request.pk)
    return request


def _tasks():
    from accounts import tasks  # the task module imports this one

    return tasks


def password_reset_process(*, request_id: int) -> SentMessage | None:
    """Send the link a recorded request calls for, unless over the rate limits: a reset link
    to a known active account, its activation link to an account never activated."""
    request = PasswordResetRequest.objects.filter(pk=request_id).first()
    if request is None:
        return None
    earlier = PasswordResetRequest.objects.filter(
        requested_at__gte=request.requested_at - dt.timedelta(hours=1), pk__lt=request.pk
    )
    if earlier.filter(email=request.email).count() >= settings.PASSWORD_RESET_LIMIT_PER_EMAIL:
        return None
    if (
        request.ip_address is not None
        and earlier.filter(ip_address=request.ip_address).count()
        >= settings.PASSWORD_RESET_LIMIT_PER_IP
    ):
        return None
    user = User.objects.filter(email__iexact=request.email, is_active=True).first()
    if user is None:
        return None
    event = f"reset:{request.pk}"
    if not is_activated(user):
        # Never activated: the activation link is what sets a first password.
        return activation_send(user=user, event=event)
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={"uidb64": _uid(user), "token": default_token_generator.make_token(user)},
    )
    return message_send(
        key=f"password-reset:{user.pk}:{request.pk}",
        to=user.email,
        template="password_reset",
        context={
            "user_name": display_name(user),
            "email": user.email,
            "reset_url": absolute_url(path),
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )


# --- Teams ------------------------------------------------------------------------------


@transaction.atomic
def team_invite(
    *,
    cpts: Cpts,
    email: str,
    first_name: str,
    last_name: str,
    function: str,
    role: str,
    invited_by: User,
) -> Membership:
    """Add a person to a CPTS's team, creating their account if needed, and tell them: an
    activation link for an account never activated, a short notice otherwise."""
    email = normalise_email(email)
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is not None and user.role and user.role not in TEAM_ROLES:
        raise PeopleError(
            f"L'adresse {email} est celle d'un compte « {user.get_role_display()} » : "
            "il ne peut pas rejoindre l'équipe d'une CPTS."
        )
    if user is not None and not user.is_active:
        raise PeopleError(f"Le compte {email} est désactivé : demandez à la FCPTS de le réactiver.")
    if user is None:
        user = User(
            username=_free_username(email),
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=role,
        )
        user.set_unusable_password()
        user.save()
    elif not user.role:
        user.role = role
        user.save(update_fields=["role"])
    membership, created = Membership.objects.get_or_create(
        user=user, cpts=cpts, defaults={"function": function}
    )
    if not created:
        raise PeopleError(f"{display_name(user)} fait déjà partie de l'équipe de {cpts.name}.")
    if is_activated(user):
        message_send(
            key=f"team:{membership.pk}",
            to=user.email,
            template="team_added",
            context={
                "user_name": display_name(user),
                "cpts_name": cpts.name,
                "invited_by": display_name(invited_by),
                "login_url": absolute_url(reverse("login")),
            },
        )
    else:
        activation_send(
            user=user, event=f"team:{membership.pk}", invited_by=invited_by, cpts=[cpts]
        )
    return membership


def team_remove(*, membership: Membership, by: User) -> None:
    """Take a person out of a CPTS's team; their account and their answers stay."""
    if membership.user_id == by.pk:
        raise PeopleError("Vous ne pouvez pas vous retirer vous-même de l'équipe.")
    membership.delete()


def _free_username(email: str) -> str:
    username, n = email[:150], 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{email[:140]}-{n}"
    return username


# --- Accounts for the federation --------------------------------------------------------


def account_deactivate(*, user: User, by: User) -> None:
    if user.pk == by.pk:
        raise PeopleError("Vous ne pouvez pas désactiver votre propre compte ici.")
    user.is_active = False
    user.save(update_fields=["is_active"])


def account_reactivate(*, user: User) -> None:
    # The inactivity clock starts again: a warning comes before any new deactivation.
    user.is_active, user.inactivity_warned_at = True, None
    user.save(update_fields=["is_active", "inactivity_warned_at"])


USER_IMPORT_COLUMNS = ("email", "first_name", "last_name", "role", "territory", "function")


@dataclass
class UserImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    activations: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self, *, dry_run: bool) -> str:
        text = (
            f"{'Vérification : ' if dry_run else ''}{self.created} compte(s) créé(s), "
            f"{self.updated} mis à jour, {self.unchanged} inchangé(s)"
        )
        if self.activations:
            verb = "à envoyer" if dry_run else "en cours d’envoi"
            text += f", {self.activations} lien(s) d'activation {verb}"
        return text + "."


@dataclass
class _UserLine:
    line: int
    email: str
    first_name: str
    last_name: str
    role: str
    region: Region | None
    department: Department | None
    cpts: dict[int, str]  # CPTS id -> function
    user: User | None


def users_import_csv(
    *, text: str | bytes, dry_run: bool = False, send_activation: bool = False
) -> UserImportReport:
    """Create or update accounts from a CSV file (README, "`import_users` file format"), read
    by the importers' reader (`cpts_portal.spreadsheet.read_table`).

    All or nothing: every bad line is reported and nothing is written if there is one. A line
    describes the whole account: the CPTS it lists are the account's CPTS (memberships not
    listed are removed). Re-importing the same file changes nothing; with `send_activation`,
    accounts never activated get their activation link, once.
    """
    report = UserImportReport()
    try:
        table = read_table(text, required=USER_IMPORT_COLUMNS)
    except TableInvalid as invalid:
        report.errors += [f"Ligne {p.line} : {p.message}." for p in invalid.problems]
        return report
    unknown = [c for c in table.header if c and c not in USER_IMPORT_COLUMNS]
    if unknown:
        report.errors.append(
            f"Ligne 1 : colonnes inconnues : {', '.join(unknown)} (l'en-tête est exactement "
            f"{','.join(USER_IMPORT_COLUMNS)})."
        )
        return report
    if not table.rows:
        report.errors.append("Le fichier ne contient aucune ligne de compte.")
        return report

    lookups = _Lookups(table.rows)
    parsed: list[_UserLine] = []
    seen: dict[str, int] = {}
    for table_row in table.rows:
        line, row = table_row.line, {k: v.strip() for k, v in table_row.as_dict().items()}
        errors: list[str] = []
        if len(table_row.values) > len(table.header):
            # More cells than columns: a stray separator shifts every value after it.
            errors.append(f"{len(table_row.values)} cellules au lieu de {len(table.header)}")
        entry = _parse_user_line(line, row, lookups, errors)
        if entry.email in seen:
            errors.append(f"adresse « {entry.email} » déjà présente ligne {seen[entry.email]}")
        elif entry.email:
            seen[entry.email] = line
        if errors:
            report.errors.append(f"Ligne {line} : " + " ; ".join(errors) + ".")
        else:
            parsed.append(entry)
    if report.errors:
        return report

    with transaction.atomic():
        to_activate: list[int] = []
        for entry in parsed:
            outcome = _apply_user_line(entry)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if send_activation and _needs_activation(entry.user):
                to_activate.append(entry.user.pk)
        report.activations = len(to_activate)
        if dry_run:
            transaction.set_rollback(True)
        elif to_activate:
            # Hundreds of messages are rendered by a worker, not during the upload's request.
            # Broker down at commit: the accounts show "pas encore activé" on the users page,
            # whose button (or the same import run again) sends their links.
            send_after_commit(_tasks().send_activation_links, to_activate)
    return report


def activation_links_send(*, user_ids: list[int]) -> int:
    """The first activation link of each account that still needs one; returns how many left."""
    users = User.objects.filter(pk__in=user_ids, is_active=True).prefetch_related(
        "memberships__cpts"
    )
    sent = 0
    for user in users:
        if not is_activated(user):
            cpts = [m.cpts for m in user.memberships.all()]
            sent += activation_send(user=user, event="initial", cpts=cpts) is not None
    return sent


def _needs_activation(user: User) -> bool:
    return (
        user.is_active
        and not is_activated(user)
        and not SentMessage.objects.filter(key=f"activation:{user.pk}:initial").exists()
    )


class _Lookups:
    """The reference data every line is checked against, read once."""

    def __init__(self, rows: list[TableRow]):
        self.regions = {r.code: r for r in Region.objects.all()}
        self.departments = {d.code: d for d in Department.objects.all()}
        codes = {
            code.strip() for row in rows for code in row.get("territory").split("|") if code.strip()
        }
        self.cpts = {c.code: c for c in Cpts.objects.filter(code__in=codes)}
        emails = {normalise_email(row.get("email")) for row in rows} - {""}
        # Addresses may be stored with capitals: match them whatever their case.
        self.users = {
            user.email_lower: user
            for user in User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=emails)
            .prefetch_related("memberships")
        }
        self.usernames = set(
            User.objects.filter(username__in=emails).values_list("username", "email")
        )
        self.functions = {}
        for value, label in Membership.Function.choices:
            self.functions[value] = value
            self.functions[str(label).casefold()] = value


def _parse_user_line(
    line: int, row: dict[str, str], lookups: _Lookups, errors: list[str]
) -> _UserLine:
    email = normalise_email(row.get("email", ""))
    if not email:
        errors.append("adresse e-mail manquante")
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"adresse e-mail invalide « {row.get('email')} »")
    first_name, last_name = row.get("first_name", ""), row.get("last_name", "")
    for label, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value) > 150:
            errors.append(f"{label} trop long (150 caractères au plus)")
    role = row.get("role", "").lower()
    territory = row.get("territory", "")
    raw_function = row.get("function", "")
    function = lookups.functions.get(raw_function.casefold()) if raw_function else ""
    entry = _UserLine(line, email, first_name, last_name, role, None, None, {}, None)
    if role not in User.Role.values:
        expected = ", ".join(User.Role.values)
        errors.append(f"rôle inconnu « {row.get('role', '')} » (attendu : {expected})")
        return entry
    if function is None:
        errors.append(
            f"fonction inconnue « {raw_function} » (attendu : vide ou "
            f"{', '.join(Membership.Function.values)})"
        )
    elif function and role not in TEAM_ROLES:
        errors.append("une fonction ne concerne que l'équipe d'une CPTS (coordinator, member)")
    if role == User.Role.ARS:
        entry.region = lookups.regions.get(territory)
        if entry.region is None:
            errors.append(f"région inconnue « {territory} » (un rôle ars prend un code de région)")
    elif role == User.Role.CPAM:
        code = "0" + territory if len(territory) == 1 else territory.upper()
        entry.department = lookups.departments.get(code)
        if entry.department is None:
            errors.append(
                f"département inconnu « {territory} » (un rôle cpam prend un code de département)"
            )
    elif role == User.Role.FCPTS:
        if territory:
            errors.append("un rôle fcpts est national : la colonne territory doit être vide")
    else:
        codes = list(dict.fromkeys(c.strip() for c in territory.split("|") if c.strip()))
        if not codes:
            errors.append(f"un rôle {role} prend un ou plusieurs codes de CPTS séparés par « | »")
        unknown = [c for c in codes if c not in lookups.cpts]
        if unknown:
            errors.append(f"CPTS inconnue(s) : {', '.join(unknown)}")
        entry.cpts = {lookups.cpts[c].pk: function or "" for c in codes if c in lookups.cpts}
    entry.user = lookups.users.get(email)
    if entry.user is not None and entry.user.role and entry.user.role != role:
        errors.append(
            f"l'adresse {email} est déjà celle d'un compte « {entry.user.get_role_display()} » "
            "(un import ne change pas le rôle d'un compte)"
        )
    if entry.user is None and any(u == email and e != email for u, e in lookups.usernames):
        errors.append(f"l'identifiant {email} est déjà pris par un autre compte")
    return entry


def _apply_user_line(entry: _UserLine) -> str:
    """Write one valid line; returns "created", "updated" or "unchanged"."""
    user = entry.user
    values = {
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "role": entry.role,
        "region": entry.region,
        "department": entry.department,
    }
    if user is None:
        user = User(username=entry.email, email=entry.email, **values)
        user.set_unusable_password()
        user.save()
        Membership.objects.bulk_create(
            Membership(user=user, cpts_id=pk, function=function)
            for pk, function in entry.cpts.items()
        )
        entry.user = user
        return "created"
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, values[name])
    if changed:
        user.save(update_fields=changed)
    current = {m.cpts_id: m for m in user.memberships.all()}
    removed = [pk for pk in current if pk not in entry.cpts]
    if removed:
        Membership.objects.filter(user=user, cpts_id__in=removed).delete()
        changed.append("cpts")
    for pk, function in entry.cpts.items():
        membership = current.get(pk)
        if membership is None:
            Membership.objects.create(user=user, cpts_id=pk, function=function)
            changed.append("cpts")
        elif membership.function != function:
            membership.function = function
            membership.save(update_fields=["function"])
            changed.append("function")
    return "updated" if changed else "unchanged"


# --- Inactive accounts (beat) -----------------------------------------------------------


@dataclass
class InactivityReport:
    warned: int = 0
    deactivated: int = 0


def inactive_accounts_process(*, now: dt.datetime | None = None) -> InactivityReport:
    """Warn accounts unused for ACCOUNT_INACTIVITY_WARNING_DAYS, and deactivate those still
    unused ACCOUNT_INACTIVITY_GRACE_DAYS after the warning. Idempotent: run it daily."""
    now = now or timezone.now()
    report = InactivityReport()
    grace = dt.timedelta(days=settings.ACCOUNT_INACTIVITY_GRACE_DAYS)
    threshold = now - dt.timedelta(days=settings.ACCOUNT_INACTIVITY_WARNING_DAYS)
    active = User.objects.filter(is_active=True)
    not_back = Q(last_login__isnull=True) | Q(last_login__lt=F("inactivity_warned_at"))
    for user in active.filter(not_back, inactivity_warned_at__lte=now - grace):
        user.is_active = False
        user.save(update_fields=["is_active"])
        report.deactivated += 1
    unused = active.annotate(last_seen=Coalesce("last_login", "date_joined")).filter(
        last_seen__lt=threshold
    )
    to_warn = unused.filter(
        Q(inactivity_warned_at__isnull=True) | Q(last_login__gt=F("inactivity_warned_at"))
    )
    for user in to_warn:
        with transaction.atomic():
            user.inactivity_warned_at = now
            user.save(update_fields=["inactivity_warned_at"])
            message_send(
                key=f"inactivity:{user.pk}:{user.last_seen:%Y%m%d%H%M%S}",
                to=user.email,
                template="inactivity_warning",
                context={
                    "user_name": display_name(user),
                    "email": user.email,
                    "inactive_months": settings.ACCOUNT_INACTIVITY_WARNING_DAYS * 12 // 365,
                    "deactivation_on": timezone.localtime(now + grace).date(),
                    "login_url": absolute_url(reverse("login")),
                },
            )
        report.warned += 1
    PasswordResetRequest.objects.filter(requested_at__lt=now - dt.timedelta(days=1)).delete()
    return report
