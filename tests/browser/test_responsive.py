"""Every page at a phone's width (390 × 844) and a laptop's (1366 × 768), in Chromium.

No page scrolls sideways (wide tables scroll inside their own box), no navigation entry wraps
onto a second line, and on a phone the questionnaire shows its questions first, the section
list folded away behind a button that names the current section and the progress. Each page
is saved to test-artifacts/screenshots/responsive-<width>-<page>.png.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from exports.models import ExportJob
from questionnaire.models import Campaign, Response
from tests.browser.conftest import DEMO_PASSWORD, SCREENSHOTS
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1366, 768)}

NO_SIDEWAYS_SCROLL = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)
# The innermost elements sticking out on the right, outside a box that scrolls on its own.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = el => el.getBoundingClientRect().right > width + 1;
  const scrolls = el => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);
  const clipped = el => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (scrolls(box) && !out(box)) return true;
    }
    return false;
  };
  return Array.from(document.querySelectorAll('body *'))
    .filter(el => out(el) && !clipped(el) && !Array.from(el.children).some(out))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
               + (typeof el.className === 'string' && el.className
                  ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
}"""
# Navigation entries whose text takes more than one line. In the folded menu of a phone, the
# user's name and role may take two lines.
WRAPPED_NAV_ITEMS = """(folded) => Array.from(
    document.querySelectorAll('.navbar .nav-link, .navbar-brand, .navbar .btn'
                              + (folded ? '' : ', .navbar .navbar-text')))
  .filter(el => el.offsetParent !== null)
  .filter(el => {
    const style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
    const text = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    return text > line * 1.5;
  })
  .map(el => el.textContent.trim())"""


@pytest.fixture
def pages(demo_site):
    """The URL of every page of the portal, by the demo user who sees it."""
    a_2025 = Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2025")
    latest = Campaign.objects.order_by("-year").first()
    draft, _created = Response.objects.get_or_create(campaign=latest, cpts=a_2025.cpts)
    fcpts = User.objects.get(username="demo-fcpts")
    job = ExportJob.objects.create(requested_by=fcpts, parameters={}, filename="export.csv")
    UserFactory(username="sans-role", password=DEMO_PASSWORD)
    compare = "?campagne=campagne-2025&" + "&".join(
        f"cpts={pk}"
        for pk in Response.objects.filter(
            campaign__slug="campagne-2025", cpts__code__in=["THESE-A", "THESE-B", "THESE-C"]
        ).values_list("cpts_id", flat=True)
    )
    questionnaire = f"/questionnaire/reponses/{draft.pk}/"
    return [
        (None, "login", "/connexion/"),
        (None, "privacy-notice", "/donnees-personnelles/"),
        (None, "accessibility", "/accessibilite/"),
        ("demo-coordinateur", "my-cpts", "/questionnaire/"),
        ("demo-coordinateur", "section", f"{questionnaire}section/gouvernance/"),
        ("demo-coordinateur", "review", questionnaire),
        ("demo-coordinateur", "results-index", "/resultats/"),
        ("demo-coordinateur", "results", f"/resultats/reponses/{a_2025.pk}/"),
        ("demo-coordinateur", "explanation", f"/resultats/reponses/{a_2025.pk}/explication/"),
        ("demo-coordinateur", "forbidden", "/tableaux-de-bord/"),
        ("demo-coordinateur", "account", "/compte/"),
        ("demo-coordinateur", "password-change", "/compte/mot-de-passe/"),
        ("demo-coordinateur", "account-delete", "/compte/supprimer/"),
        ("demo-ars-idf", "dashboard", "/tableaux-de-bord/"),
        ("demo-ars-idf", "second-factor", "/compte/double-authentification/"),
        ("demo-ars-idf", "second-factor-enrol", "/compte/double-authentification/activer/"),
        ("demo-ars-idf", "reports-bundle", "/tableaux-de-bord/rapports/?campagne=campagne-2025"),
        ("demo-fcpts", "dashboard-national", "/tableaux-de-bord/"),
        ("demo-fcpts", "cpts", f"/tableaux-de-bord/cpts/{a_2025.cpts_id}/"),
        ("demo-fcpts", "compare", f"/tableaux-de-bord/comparer/{compare}"),
        ("demo-fcpts", "submitted-response", f"/questionnaire/reponses/{a_2025.pk}/"),
        ("demo-fcpts", "history", f"/questionnaire/reponses/{a_2025.pk}/historique/"),
        ("demo-fcpts", "exports", "/exports/"),
        ("demo-fcpts", "export-job", f"/exports/fichiers/{job.pk}/"),
        ("demo-fcpts", "not-found", "/tableaux-de-bord/cpts/999999/"),
        ("demo-coordinateur", "team", f"/questionnaire/cpts/{a_2025.cpts_id}/equipe/"),
        ("demo-fcpts", "federation-users", "/federation/utilisateurs/"),
        (None, "password-reset", "/connexion/mot-de-passe-oublie/"),
        (None, "password-reset-sent", "/connexion/mot-de-passe-oublie/envoye/"),
        (None, "activation-link-invalid", "/connexion/activer/MQ/c0ffee-0123456789abcdef/"),
        ("sans-role", "home-without-role", "/"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways_and_no_menu_entry_wraps(
    browser, demo_site, pages, width, tmp_path
):
    size = WIDTHS[width]
    problems = []
    contexts = {}
    try:
        for username, name, path in pages:
            if username not in contexts:
                context = browser.new_context(viewport={"width": size[0], "height": size[1]})
                contexts[username] = context.new_page()
                if username:
                    log_in(contexts[username], demo_site.url, username)
            page = contexts[username]
            page.goto(f"{demo_site.url}{path}")
            page.wait_for_load_state("networkidle")
            if not page.evaluate(NO_SIDEWAYS_SCROLL):
                wide = page.evaluate("document.documentElement.scrollWidth")
                culprits = page.evaluate(OVERFLOWING)
                problems.append(f"{name}: {wide} px wide at {size[0]} px: {culprits}")
            page.screenshot(
                path=str(SCREENSHOTS / f"responsive-{size[0]}-{name}.png"), full_page=True
            )
            toggler = page.locator(".navbar-toggler")
            if toggler.is_visible():
                toggler.click()
                expect(page.locator("#nav-main.show")).to_be_visible()
                page.wait_for_function("!document.querySelector('.navbar .collapsing')")
                if not page.evaluate(NO_SIDEWAYS_SCROLL):
                    problems.append(f"{name}: the unfolded menu is wider than the screen")
            wrapped = page.evaluate(WRAPPED_NAV_ITEMS, width == "phone")
            if wrapped:
                problems.append(f"{name}: menu entries on two lines: {wrapped}")
            if toggler.is_visible():
                page.screenshot(path=str(SCREENSHOTS / f"responsive-{size[0]}-{name}-menu.png"))
    finally:
        for page in contexts.values():
            page.context.close()
    assert problems == [], "\n".join(problems)


def test_on_a_phone_the_questions_come_first(browser, demo_site, pages):
    username, _name, path = next(p for p in pages if p[1] == "section")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, demo_site.url, username)
        page.goto(f"{demo_site.url}{path}")
        sections = page.get_by_role("navigation", name="Sections du questionnaire")
        toggle = page.get_by_role("button", name="Sections du questionnaire")
        # Folded: the progress, then a button naming the current section; no section link shows.
        expect(page.locator("#progress-text")).to_be_visible()
        expect(toggle).to_be_visible()
        expect(toggle).to_contain_text("Gouvernance")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(sections.get_by_role("link", name="Gouvernance")).to_be_hidden()
        # The first question starts on the first screen, well above its bottom.
        first_question = page.locator("#section-form fieldset.question").first
        assert first_question.bounding_box()["y"] < 844 / 2
        page.screenshot(path=str(SCREENSHOTS / "responsive-390-section-folded.png"))
        toggle.click()
        expect(sections.get_by_role("link", name="Gouvernance")).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        page.screenshot(path=str(SCREENSHOTS / "responsive-390-section-open.png"))

        # On a laptop the list is always there, beside the questions.
        page.set_viewport_size({"width": 1366, "height": 768})
        page.reload()
        expect(sections.get_by_role("link", name="Gouvernance")).to_be_visible()
        expect(toggle).to_be_hidden()
    finally:
        context.close()


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # On a phone the logout button is in the folded menu: attached, not visible.
    expect(page.locator("form[action='/deconnexion/']")).to_be_attached()
