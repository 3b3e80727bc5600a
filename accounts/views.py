from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.access import gate
from accounts.backends import BACKEND_PATH
from accounts.filters import UserFilter
from accounts.forms import LoginForm, PasswordResetRequestForm, TeamInviteForm, UserImportForm
from accounts.models import User
from accounts.scoping import (
    can_fill_questionnaires,
    can_manage_accounts,
    can_manage_team,
    can_view_dashboards,
    get_team_cpts_for_user,
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
