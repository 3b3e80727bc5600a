import os
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.helpers import ROOT


@pytest.mark.django_db
def test_login_page_is_french_and_uses_local_assets_only(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Connexion" in html and "Adresse e-mail ou nom d’utilisateur" in html
    assert reverse("accounts:password_reset") in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "http://" not in html and "https://" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.django_db
def test_pages_require_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_login_then_logout(client):
    UserFactory(username="alice", role="fcpts")
    response = client.post(
        reverse("login"), {"username": "alice", "password": "secret-password-1"}, follow=True
    )
    assert "Tableau de bord du territoire" in response.content.decode()
    response = client.post(reverse("logout"), follow=True)
    assert response.request["PATH_INFO"] == reverse("login")


@pytest.mark.django_db
def test_repeated_failures_lock_the_account(client):
    UserFactory(username="bob", role="fcpts")
    for _ in range(5):
        client.post(reverse("login"), {"username": "bob", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "bob", "password": "secret-password-1"})
    assert locked.status_code == 429
    assert "Compte temporairement bloqué" in locked.content.decode()


@pytest.mark.django_db
def test_health_endpoint(client):
    assert client.get(reverse("health")).json() == {"status": "ok"}


def test_production_settings_pass_the_deploy_check():
    # The browser tests' async-unsafe switch must not leak into a production check.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x7!k2#q9-production-like-secret-key-with-plenty-of-entropy-91c",
        "DJANGO_ALLOWED_HOSTS": "portail.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_production_settings_ship_no_bench_command():
    """The benchmarks app (its command creates and drops databases) is installed by the bench
    settings only; the demo data command stays (it refuses to run with DEBUG off)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x7!k2#q9-production-like-secret-key-with-plenty-of-entropy-91c",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split()
    assert "load_demo_data" in commands
    assert "bench" not in commands


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="cpts_portal.settings", DJANGO_DEBUG="false")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_form_without_its_csrf_token_is_refused_in_french(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["fcpts"])
    response = client.post(reverse("exports:index"), {"format": "wide"})
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()
