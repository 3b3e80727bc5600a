"""Each role sees exactly its territory; nobody sees anything by default."""

import pytest

from accounts.scoping import cpts_visible_to, responses_editable_by, responses_visible_to
from questionnaire.models import Response
from tests.factories import ResponseFactory, UserFactory


def names(queryset):
    return sorted(c.name for c in queryset)


@pytest.mark.django_db
def test_each_role_sees_exactly_its_territory(users, territory):
    assert names(cpts_visible_to(users["coordinator"])) == ["CPTS Lyon", "CPTS Paris Un"]
    assert names(cpts_visible_to(users["ars"])) == [
        "CPTS Paris Deux",
        "CPTS Paris Un",
        "CPTS Saint-Denis",
    ]
    assert names(cpts_visible_to(users["cpam"])) == ["CPTS Paris Deux", "CPTS Paris Un"]
    assert names(cpts_visible_to(users["fcpts"])) == names(territory.values())
    assert list(cpts_visible_to(users["no_role"])) == []


@pytest.mark.django_db
def test_superuser_sees_everything_and_inactive_users_nothing(territory):
    assert cpts_visible_to(UserFactory(is_superuser=True)).count() == 4
    inactive = UserFactory(role="fcpts", is_active=False)
    assert cpts_visible_to(inactive).count() == 0


@pytest.mark.django_db
def test_responses_follow_cpts_visibility_and_only_coordinators_edit_drafts(
    users, territory, campaign
):
    responses = {
        key: ResponseFactory(campaign=campaign, cpts=cpts) for key, cpts in territory.items()
    }
    submitted = responses["lyon"]
    submitted.status = Response.Status.SUBMITTED
    submitted.submitted_at = submitted.created_at
    submitted.save()

    visible = {role: set(responses_visible_to(u)) for role, u in users.items()}
    assert visible["coordinator"] == {responses["paris_1"], responses["lyon"]}
    assert visible["cpam"] == {responses["paris_1"], responses["paris_2"]}
    assert visible["ars"] == {responses["paris_1"], responses["paris_2"], responses["saint_denis"]}
    assert visible["fcpts"] == set(responses.values())
    assert visible["no_role"] == set()

    assert set(responses_editable_by(users["coordinator"])) == {responses["paris_1"]}
    for role in ("ars", "cpam", "fcpts", "no_role"):
        assert not responses_editable_by(users[role]).exists()


@pytest.mark.django_db
def test_role_territory_is_enforced_by_the_database(territory):
    from django.db import IntegrityError, transaction

    with transaction.atomic(), pytest.raises(IntegrityError):
        UserFactory(role="ars")  # an ARS officer without a region
    with transaction.atomic(), pytest.raises(IntegrityError):
        UserFactory(role="cpam")
