"""Browser tests: pytest-playwright driving Debian's Chromium against Django's live server."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from
# such a thread unless told otherwise. Only browser test sessions load this file.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Assertions wait up to 15 s: on a shared 2-core machine an autosave (debounce, request, answer)
# can take longer than Playwright's default 5 s, and a late answer is not a wrong one.
expect.set_options(timeout=15_000)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DEMO_PASSWORD = "mot-de-passe-demo"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def demo_site(transactional_db, live_server, settings):
    settings.DEBUG = True
    call_command("load_demo_data", password=DEMO_PASSWORD, verbosity=0)
    settings.DEBUG = False
    return live_server


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, demo_site):
    def log_in(username: str) -> None:
        page.goto(f"{demo_site.url}/connexion/")
        page.get_by_label("Nom d’utilisateur").fill(username)
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    return log_in
