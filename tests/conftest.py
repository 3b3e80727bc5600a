import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import User
from questionnaire.services import questionnaire_load
from scoring.arithmetic import Layout
from scoring.services import grid_load
from territories.models import Department, Region
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.helpers import DEFINITION, GRID_PATH, build_cohort


@pytest.fixture
def questionnaire(db):
    return questionnaire_load(path=DEFINITION).version


@pytest.fixture
def grid(questionnaire):
    return grid_load(path=GRID_PATH).grid


@pytest.fixture
def q(questionnaire):
    """The questionnaire's questions by number: `q(17)`."""
    questions = {
        question.number: question
        for question in questionnaire.questions.prefetch_related("options")
    }
    return questions.__getitem__


@pytest.fixture
def campaign(questionnaire):
    return CampaignFactory(questionnaire=questionnaire)


@pytest.fixture
def territory(db):
    """Two CPTS in Paris (75), one in Seine-Saint-Denis (93, same region), one in Lyon (69)."""
    return {
        "paris_1": CptsFactory(name="CPTS Paris Un", department=Department.objects.get(code="75")),
        "paris_2": CptsFactory(
            name="CPTS Paris Deux", department=Department.objects.get(code="75")
        ),
        "saint_denis": CptsFactory(
            name="CPTS Saint-Denis", department=Department.objects.get(code="93")
        ),
        "lyon": CptsFactory(name="CPTS Lyon", department=Department.objects.get(code="69")),
    }


@pytest.fixture
def users(territory):
    return {
        "coordinator": UserFactory(
            role=User.Role.COORDINATOR, cpts=[territory["paris_1"], territory["lyon"]]
        ),
        "member": UserFactory(role=User.Role.MEMBER, cpts=[territory["paris_1"]]),
        "other_member": UserFactory(role=User.Role.MEMBER, cpts=[territory["paris_2"]]),
        "ars": UserFactory(role=User.Role.ARS, region=Region.objects.get(code="11")),
        "cpam": UserFactory(role=User.Role.CPAM, department=Department.objects.get(code="75")),
        "fcpts": UserFactory(role=User.Role.FCPTS),
        "no_role": UserFactory(),
    }


@pytest.fixture
def cohort(questionnaire, territory, grid):
    """tests/helpers.build_cohort: three submitted, scored responses and a draft."""
    return build_cohort(questionnaire, territory, grid)


@pytest.fixture
def model(grid):
    """The grid, layout and questions the scoring arithmetic reads, for property tests."""
    questionnaire = grid.questionnaire
    questions = list(
        questionnaire.questions.select_related("condition_question").prefetch_related("options")
    )
    return grid.spec, Layout.from_definition(questionnaire.definition), questions


@pytest.fixture
def force_login_verified(client):
    """`client.force_login`, plus the second factor given in that session with `device` (the
    TOTP device of the user): what `/connexion/code/` records after a right code."""

    def log_in(user: User, device) -> None:
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    return log_in


@pytest.fixture
def smtp(settings):
    """A real SMTP server for this test, and the portal's EMAIL_URL pointing at it."""
    from tests.smtp import email_settings, smtp_server

    with smtp_server() as server:
        for name, value in email_settings(server.url).items():
            setattr(settings, name, value)
        yield server


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): client.post(...)` runs what the request queued on commit (e-mail
    delivery), as a real transaction's commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
