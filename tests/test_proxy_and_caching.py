"""Issue 13 §5: brute force behind the reverse proxy, and no page kept in a cache."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from cpts_portal.network import client_address
from tests.factories import UserFactory

PROXY = "172.18.0.5"  # the reverse proxy's address, as the app sees every connection


def _login(client, username, password="wrong", client_ip="203.0.113.7", spoofed=""):
    forwarded = f"{spoofed}, {client_ip}" if spoofed else client_ip
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.fixture
def behind_proxy(settings):
    settings.PROXY_COUNT = 1


def test_the_client_address_is_the_one_the_trusted_proxy_saw(rf, settings):
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.PROXY_COUNT = 0
    assert client_address(request) == PROXY
    settings.PROXY_COUNT = 1
    assert client_address(request) == "203.0.113.7"  # the left entry is the client's own claim
    settings.PROXY_COUNT = 2
    assert client_address(request) == "6.6.6.6"
    settings.PROXY_COUNT = 3  # fewer entries than proxies: not through the chain
    assert client_address(request) == PROXY
    settings.PROXY_COUNT = 1
    assert client_address(rf.get("/", REMOTE_ADDR=PROXY)) == PROXY
    bad = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_address(bad) == PROXY


@pytest.mark.django_db
def test_one_client_behind_the_proxy_cannot_lock_another_clients_account(behind_proxy):
    UserFactory(username="claire", role=User.Role.FCPTS)
    attacker, owner = Client(), Client()
    for _ in range(6):
        _login(attacker, "claire", client_ip="198.51.100.66")
    assert _login(attacker, "claire", client_ip="198.51.100.66").status_code == 429
    # The same account from its owner's address (same proxy, another client) still logs in.
    response = _login(owner, "claire", "secret-password-1", client_ip="203.0.113.7")
    assert response.status_code == 302 and response.url == reverse("home")


@pytest.mark.django_db
def test_spoofing_the_forwarded_header_does_not_escape_the_lock(behind_proxy):
    UserFactory(username="david", role=User.Role.FCPTS)
    client = Client()
    for n in range(5):
        _login(client, "david", client_ip="198.51.100.66", spoofed=f"10.0.0.{n}")
    assert _login(client, "david", spoofed="10.9.9.9", client_ip="198.51.100.66").status_code == 429


@pytest.mark.django_db
def test_one_address_spraying_many_usernames_is_locked(behind_proxy, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 12
    UserFactory(username="emma", role=User.Role.FCPTS)
    client = Client()
    for n in range(11):  # two tries per username: below the per-account limit of 5
        assert _login(client, f"victim{n // 2}", client_ip="198.51.100.9").status_code == 200
    assert _login(client, "victim5", client_ip="198.51.100.9").status_code == 429  # the 12th
    locked = _login(client, "emma", "secret-password-1", client_ip="198.51.100.9")
    assert locked.status_code == 429
    assert "Compte temporairement bloqué" in locked.content.decode()
    # Another address is not concerned.
    assert _login(Client(), "emma", "secret-password-1", client_ip="203.0.113.8").status_code == 302


@pytest.mark.django_db
def test_pages_csv_and_downloads_are_private_and_not_stored(client, users, campaign):
    client.force_login(users["ars"])
    urls = [
        reverse("dashboards:overview"),
        reverse("dashboards:chart_csv", args=["matrice"]),
        reverse("exports:index"),
        reverse("scoring:index"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control, url
    client.force_login(users["coordinator"])
    assert "no-store" in client.get(reverse("questionnaire:my_cpts"))["Cache-Control"]
    login_page = Client().get(reverse("login"))
    assert "no-store" in login_page["Cache-Control"]  # it holds a CSRF token
