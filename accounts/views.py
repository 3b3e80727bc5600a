from base64 import b32encode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import selectors, services
from accounts.access import gate
from accounts.forms import AccountDeleteForm, AccountForm, CodeForm
from accounts.presenters import qr_code_svg
from accounts.scoping import (
    can_fill_questionnaires,
    can_use_second_factor,
    can_view_dashboards,
    must_use_second_factor,
)


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
            services.account_update(user=request.user, **form.cleaned_data)
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
