"""The TOTP second factor: enrolment, the sign-in's second step, recovery codes, the admin.

The test settings turn `OTP_REQUIRED_FOR_FCPTS` off for the other features' tests; here it is on,
as in production.
"""

import os
import re
import subprocess
import sys
import time
from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.factories import UserFactory
from tests.helpers import ROOT

PASSWORD = "secret-password-1"


@pytest.fixture(autouse=True)
def second_factor_required(settings):
    settings.OTP_REQUIRED_FOR_FCPTS = True


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the user's app shows now (or `steps_ahead` 30-second steps later: a code is accepted
    once only, and up to one step early, so a second sign-in in the same test uses the next)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    static = user.staticdevice_set.create(name="secours", confirmed=True)
    static.token_set.create(token="abcd2345")
    return device


def sign_in(client, user: User, next_url: str = ""):
    data = {"username": user.username, "password": PASSWORD}
    return client.post(reverse("login") + (f"?next={next_url}" if next_url else ""), data)


def test_enrolment_shows_a_local_svg_qr_code_then_confirms_with_the_first_code(client, users):
    fcpts = users["fcpts"]
    sign_in(client, fcpts)
    page = client.get(reverse("accounts:second_factor_enrol") + "?next=/exports/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html
    qr = html[html.index("<svg") : html.index("</svg>")]
    assert "style" not in qr and "http" not in qr.replace("http://www.w3.org/2000/svg", "")
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    device = TOTPDevice.objects.get(user=fcpts, confirmed=False)
    secret = re.search(r'id="otp-secret">([A-Z2-7]+)<', html).group(1)
    assert b32decode(secret) == device.bin_key
    # Reloading keeps the same secret (the app may already have scanned it).
    assert secret in client.get(reverse("accounts:second_factor_enrol")).content.decode()

    url = reverse("accounts:second_factor_enrol")
    wrong = client.post(url, {"code": "000000", "next": "/exports/"})
    assert "Code incorrect" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()
    done = client.post(url, {"code": code_for(device), "next": "/exports/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=fcpts).values_list("token", flat=True)
    )
    assert TOTPDevice.objects.get(user=fcpts).confirmed
    assert 'href="/exports/"' in done.content.decode()
    assert client.get("/exports/").status_code == 200  # verified in this session


def test_signing_in_with_a_device_asks_for_its_code_then_goes_where_asked(client, users, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # so that "too soon" cannot depend on the clock
    ars = users["ars"]
    device = enrolled(ars)
    response = sign_in(client, ars, next_url="/tableaux-de-bord/")
    assert client.get(response.url).url.startswith(reverse("accounts:second_factor_verify"))
    verify = reverse("accounts:second_factor_verify") + "?next=/tableaux-de-bord/"
    page = client.get(verify)
    assert "Code de vérification" in page.content.decode()
    wrong = client.post(verify, {"code": "123456"})
    assert wrong.status_code == 200 and "Code incorrect" in wrong.content.decode()
    # Each wrong code doubles the wait before the next (django-otp's throttling).
    too_soon = client.post(verify, {"code": code_for(device)})
    assert "Trop de codes erronés" in too_soon.content.decode()
    device.refresh_from_db()
    device.throttle_reset()
    right = client.post(verify, {"code": code_for(device), "next": "/tableaux-de-bord/"})
    assert right.status_code == 302 and right.url == "/tableaux-de-bord/"
    assert client.get("/tableaux-de-bord/").status_code == 200


def test_a_recovery_code_signs_in_once(client, users):
    fcpts = users["fcpts"]
    enrolled(fcpts)
    sign_in(client, fcpts)
    verify = reverse("accounts:second_factor_verify")
    used = client.post(verify, {"code": "ABCD 2345"}, follow=True)
    assert "Code de secours utilisé : il vous en reste 0" in used.content.decode()
    assert not StaticToken.objects.filter(token="abcd2345").exists()
    client.post(reverse("logout"))
    sign_in(client, fcpts)
    again = client.post(verify, {"code": "abcd2345"})
    assert "Code incorrect" in again.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, users, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only axes counts here
    fcpts = users["fcpts"]
    device = enrolled(fcpts)
    sign_in(client, fcpts)
    verify = reverse("accounts:second_factor_verify")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(verify, {"code": "111111"}).status_code == 200
    locked = client.post(verify, {"code": "111111"})
    assert locked.status_code == 429
    assert "Compte temporairement bloqué" in locked.content.decode()
    assert client.post(verify, {"code": code_for(device)}).status_code == 429
    assert client.get(reverse("home")).status_code == 302  # still not through


def test_an_app_cannot_be_replaced_with_the_password_alone(client, users):
    fcpts = users["fcpts"]
    device = enrolled(fcpts)
    sign_in(client, fcpts)
    verify = reverse("accounts:second_factor_verify")
    assert client.get(reverse("accounts:second_factor_enrol")).url == reverse(
        "accounts:second_factor"
    )
    replace = client.post(reverse("accounts:second_factor"), {"action": "replace"})
    assert replace.url.startswith(verify)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_the_admin_asks_for_the_second_factor(client, users):
    admin_user = UserFactory(role=User.Role.FCPTS, is_staff=True, is_superuser=True)
    anonymous = client.get("/admin/")
    assert anonymous.url.startswith(reverse("admin:login"))
    assert client.get(anonymous.url).url == reverse("login") + "?next=/admin/"
    device = enrolled(admin_user)
    sign_in(client, admin_user)
    pending = client.get("/admin/", follow=True)
    assert pending.request["PATH_INFO"] == reverse("accounts:second_factor_verify")
    client.post(reverse("accounts:second_factor_verify"), {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_staff_without_a_device_must_enrol_before_the_admin(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in(client, staff)
    response = client.get("/admin/", follow=True)
    assert response.request["PATH_INFO"] == reverse("accounts:second_factor_enrol")


def test_ars_and_cpam_may_enrol_and_remove_it_fcpts_may_not_remove(client, users):
    for role in ("ars", "cpam"):
        user = users[role]
        client.force_login(user)
        assert client.get(reverse("dashboards:overview")).status_code == 200  # not forced
        page = client.get(reverse("accounts:second_factor")).content.decode()
        assert "Activer la double authentification" in page
        client.get(reverse("accounts:second_factor_enrol"))
        device = TOTPDevice.objects.get(user=user)
        client.post(reverse("accounts:second_factor_enrol"), {"code": code_for(device)})
        assert "Désactiver" in client.get(reverse("accounts:second_factor")).content.decode()
        client.post(reverse("accounts:second_factor"), {"action": "remove"})
        assert not TOTPDevice.objects.filter(user=user).exists()
    fcpts = users["fcpts"]
    device = enrolled(fcpts)
    client.force_login(fcpts)
    client.post(reverse("accounts:second_factor_verify"), {"code": code_for(device)})
    page = client.get(reverse("accounts:second_factor")).content.decode()
    assert "Désactiver" not in page and "obligatoire" in page
    client.post(reverse("accounts:second_factor"), {"action": "remove"})
    assert TOTPDevice.objects.filter(user=fcpts).exists()
    new_codes = client.post(reverse("accounts:second_factor"), {"action": "recovery_codes"})
    assert len(re.findall(r"<li><code>", new_codes.content.decode())) == 10
    assert not StaticToken.objects.filter(token="abcd2345").exists()


def test_coordinators_have_no_second_factor_pages(client, users):
    client.force_login(users["coordinator"])
    assert client.get(reverse("accounts:second_factor")).status_code == 403
    assert client.get(reverse("accounts:second_factor_enrol")).status_code == 403
    assert client.get(reverse("questionnaire:my_cpts")).status_code == 200


def test_production_settings_require_the_second_factor():
    """Only the test settings turn it off; nothing in the environment can."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x7!k2#q9-production-like-secret-key-with-plenty-of-entropy-91c",
        "OTP_REQUIRED_FOR_FCPTS": "false",
        "DJANGO_OTP_REQUIRED_FOR_FCPTS": "false",
    }
    script = "import django; django.setup(); from django.conf import settings; "
    script += "print(settings.OTP_REQUIRED_FOR_FCPTS)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "True", result.stderr
