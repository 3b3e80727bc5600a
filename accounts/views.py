from base64 import b32encode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.tokens import default_token_generator
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import selectors, services
from accounts.access import gate
from accounts.backends import BACKEND_PATH
from accounts.filters import UserFilter
from accounts.forms import (
    AccountDeleteForm,
    AccountForm,
    CodeForm,
    LoginForm,
    PasswordResetRequestForm,
    TeamInviteForm,
    UserImportForm,
)
from accounts.models import User
from accounts.presenters import qr_code_svg
from accounts.scoping import (
    can_fill_questionnaires,
    can_manage_accounts,
    can_manage_team,
    can_use_second_factor,
    can_view_dashboards,
    get_team_cpts_for_user,
    must_use_second_factor,
    users_visible_to,
)
from accounts.tokens import TokenState, activation_tokens
from cpts_portal.network import client_address

USERS_PER_PAGE = 50


@gate()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own page; an account without a role is told how to get one."""
    if can_fill_questionnaires(request.user):
        return redirect("questionnaire:my_cpts")
    if can_view_dashboards(request.user):
        return redirect("dashboards:overview")
    return render(request, "accounts/home.html")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness probe for the container health check: the app answers and the DB responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _next_url(request: HttpRequest) -> str:
    """Where to go once this step is done: a `next` on this site, else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@gate()
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """/compte/: one's name and e-mail, and the way to every other part of one's account."""
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                user=request.user,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                email=form.cleaned_data["email"],
                functions=form.functions,
            )
        except services.EmailTaken:  # taken between the form's check and the write
            form.add_error("email", AccountForm.EMAIL_TAKEN)
        else:
            messages.success(request, "Vos informations ont été enregistrées.")
            return redirect("accounts:account")
    user = request.user
    return render(
        request,
        "accounts/account.html",
        {
            "form": form,
            "memberships": user.memberships.select_related("cpts").order_by("cpts__name"),
            "can_use_second_factor": can_use_second_factor(user),
            "has_second_factor": selectors.has_second_factor(user),
        },
    )


@gate()
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(user=request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        # The session survives the new password (and keeps its verified second factor).
        update_session_auth_hash(request, form.user)
        messages.success(request, "Votre mot de passe a été changé.")
        return redirect("accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


@gate()
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=request.user)
        logout(request)
        messages.success(
            request,
            "Votre compte a été supprimé : votre nom et votre adresse n'apparaissent plus nulle "
            "part ; vos réponses restent celles de votre CPTS, signées « utilisateur supprimé ».",
        )
        return redirect("login")
    return render(request, "accounts/account_delete.html", {"form": form})


@gate(can_use_second_factor)
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """The second factor's state; new recovery codes, another app, or (if optional) none."""
    user = request.user
    if not selectors.has_second_factor(user):
        return render(request, "accounts/second_factor.html", {"enrolled": False})
    action = request.POST.get("action")
    if request.method == "POST" and action == "recovery_codes":
        codes = services.recovery_codes_regenerate(user=user)
        return render(
            request,
            "accounts/recovery_codes.html",
            {"codes": codes, "next": reverse("accounts:account")},
        )
    if request.method == "POST" and action == "replace":
        services.second_factor_remove(user=user)
        return redirect("accounts:second_factor_enrol")
    if request.method == "POST" and action == "remove" and not must_use_second_factor(user):
        services.second_factor_remove(user=user)
        messages.success(request, "La double authentification est désactivée.")
        return redirect("accounts:account")
    return render(
        request,
        "accounts/second_factor.html",
        {
            "enrolled": True,
            "device": selectors.confirmed_totp_device(user),
            "codes_left": selectors.recovery_codes_left(user),
            "required": must_use_second_factor(user),
        },
    )


@gate(can_use_second_factor, before_second_factor=True)
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code (or type the key), then give the app's first code. Reachable
    before the second factor only while the user has none: replacing an app needs the old one."""
    user = request.user
    if selectors.has_second_factor(user):
        return redirect("accounts:second_factor")
    # The pending device is created by the first visit (django-otp's unconfirmed device) and
    # reused until confirmed, so that the QR code does not change under a user who reloads.
    device = services.second_factor_start(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.second_factor_confirm(device=device, code=form.cleaned_data["code"])
        except services.CodeRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            otp_login(request, device)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "enrolled_now": True},
            )
    return render(
        request,
        "accounts/second_factor_enrol.html",
        {
            "form": form,
            "qr_code": qr_code_svg(device.config_url),
            "secret": b32encode(device.bin_key).decode(),
            "next": _next_url(request),
            "required": must_use_second_factor(user),
        },
    )


@gate(before_second_factor=True)
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """The sign-in's second step: a code from the app or a recovery code. Wrong codes count as
    failed logins for axes (same lockout as wrong passwords) and slow down further tries."""
    user = request.user
    next_url = _next_url(request)
    if user.is_verified() or not selectors.has_second_factor(user):
        return redirect(next_url)
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return get_lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(user=user, code=form.cleaned_data["code"])
        except services.CodeRefused as refusal:
            form.add_error("code", str(refusal))
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        else:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = selectors.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"Code de secours utilisé : il vous en reste {left}. Vous pouvez en générer "
                    "de nouveaux depuis « Mon compte ».",
                )
            return redirect(next_url)
    return render(request, "accounts/second_factor_verify.html", {"form": form, "next": next_url})


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True


# --- Activation and password reset (public pages) ---------------------------------------


class ActiveAccountLinkMixin:
    """Links in e-mails open active accounts only: a deactivated account's link is invalid."""

    post_reset_login = True
    post_reset_login_backend = BACKEND_PATH
    success_url = reverse_lazy("home")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None


class ActivateView(ActiveAccountLinkMixin, auth_views.PasswordResetConfirmView):
    """The activation link: choose a password, then land signed in. A spent, forged or expired
    link says which, and an expired one offers a new link."""

    token_generator = activation_tokens
    template_name = "accounts/activate.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not context["validlink"]:
            token = self.kwargs.get("token", "")
            if token == self.reset_url_token:
                token = self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN, "")
            if self.user is not None and services.is_activated(self.user):
                context["link_state"] = "used"
            elif activation_tokens.state(self.user, token) is TokenState.EXPIRED:
                context["link_state"] = "expired"
            else:
                context["link_state"] = "invalid"
            context["uidb64"] = self.kwargs["uidb64"]
        return context

    def form_valid(self, form):
        messages.success(self.request, "Votre compte est activé. Bienvenue !")
        return super().form_valid(form)


@require_POST
def activation_resend(request: HttpRequest, uidb64: str) -> HttpResponse:
    """From an expired link's page: a new link to the account's own address."""
    try:
        user = User.objects.filter(pk=int(urlsafe_base64_decode(uidb64).decode())).first()
    except (ValueError, UnicodeDecodeError):
        user = None
    if user is not None:
        services.activation_resend(user=user)
    # The same answer whatever the link: nothing is told about accounts.
    return render(request, "accounts/activation_resent.html")


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(
            email=form.cleaned_data["email"], ip_address=client_address(request) or None
        )
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset.html", {"form": form})


@require_GET
def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_done.html",
        {"valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )


class PasswordResetConfirmView(ActiveAccountLinkMixin, auth_views.PasswordResetConfirmView):
    token_generator = default_token_generator
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        messages.success(self.request, "Votre mot de passe a été changé. Vous êtes connecté·e.")
        return super().form_valid(form)


# --- A CPTS's team (its coordinators) ---------------------------------------------------


@gate(can_manage_team)
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, pk: int) -> HttpResponse:
    cpts = get_team_cpts_for_user(request.user, pk)
    form = TeamInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.team_invite(
                cpts=cpts, invited_by=request.user, **form.cleaned_data
            )
        except services.PeopleError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request,
                f"{services.display_name(membership.user)} fait maintenant partie de l'équipe ; "
                f"un e-mail lui a été envoyé à {membership.user.email}.",
            )
            return redirect("accounts:team", pk=cpts.pk)
    return render(
        request,
        "accounts/team.html",
        {"cpts": cpts, "team": selectors.team_of(cpts), "form": form},
        status=400 if form.errors else 200,
    )


@gate(can_manage_team)
@require_POST
def team_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    cpts = get_team_cpts_for_user(request.user, pk)
    membership = get_object_or_404(selectors.team_of(cpts), pk=membership_pk)
    try:
        services.team_remove(membership=membership, by=request.user)
    except services.PeopleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{services.display_name(membership.user)} ne fait plus partie de l'équipe ; "
            "ses réponses déjà enregistrées sont conservées.",
        )
    return redirect("accounts:team", pk=cpts.pk)


# --- The federation's accounts ----------------------------------------------------------


@gate(can_manage_accounts)
@require_http_methods(["GET", "POST"])
def federation_users(request: HttpRequest) -> HttpResponse:
    import_form = UserImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and import_form.is_valid():
        data = import_form.cleaned_data
        report = services.users_import_csv(
            text=data["file"],
            dry_run=data["dry_run"],
            send_activation=data["send_activation"],
        )
        if report.ok and not data["dry_run"]:
            messages.success(request, report.summary(dry_run=False))
            return redirect("accounts:federation_users")
    users = selectors.accounts_with_memberships(users_visible_to(request.user))
    filters = UserFilter(request.GET or None, queryset=users.order_by("last_name", "email"))
    page = Paginator(filters.qs, USERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/federation_users.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "import_form": import_form,
            "report": report,
            "summary": report.summary(dry_run=True) if report and report.ok else "",
        },
        status=400 if (import_form.errors or (report and not report.ok)) else 200,
    )


@gate(can_manage_accounts)
@require_POST
def federation_user_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(users_visible_to(request.user), pk=pk)
    action = request.POST.get("action")
    name = services.display_name(user)
    try:
        if action == "activation":
            if not user.email:
                messages.error(request, f"Le compte de {name} n'a pas d'adresse e-mail.")
            elif services.is_activated(user) or not user.is_active:
                messages.error(
                    request, f"{name} a déjà activé son compte, ou son compte est désactivé."
                )
            elif services.activation_resend(user=user, by=request.user) is None:
                messages.info(request, f"Un lien vient déjà d'être envoyé à {user.email}.")
            else:
                messages.success(request, f"Lien d'activation envoyé à {user.email}.")
        elif action == "deactivate":
            services.account_deactivate(user=user, by=request.user)
            messages.success(request, f"Le compte de {name} est désactivé.")
        elif action == "reactivate":
            services.account_reactivate(user=user)
            messages.success(request, f"Le compte de {name} est réactivé.")
        else:
            messages.error(request, "Action inconnue.")
    except services.PeopleError as error:
        messages.error(request, str(error))
    back = request.POST.get("next", "")
    if not back.startswith(reverse("accounts:federation_users")):
        back = reverse("accounts:federation_users")
    return redirect(back)
