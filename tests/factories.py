import datetime as dt

import factory

from accounts.models import Membership, User
from questionnaire.models import Answer, Campaign, Response
from scoring.models import ResponseScore
from scoring.services import response_score
from territories.models import Cpts, Department


class CptsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cpts

    code = factory.Sequence(lambda n: f"TEST-{n:04d}")
    name = factory.Sequence(lambda n: f"CPTS de test {n}")
    department = factory.LazyFunction(lambda: Department.objects.get(code="75"))
    stage = Cpts.Stage.RUNNING
    created_on = dt.date(2020, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-password-1")

    @factory.post_generation
    def cpts(self, create, extracted, **kwargs):
        for cpts in extracted or []:
            Membership.objects.create(user=self, cpts=cpts)
        if create:
            self.save()


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campagne test {n}")
    slug = factory.Sequence(lambda n: f"campagne-test-{n}")
    year = 2026
    opens_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))
    closes_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=60))
    status = factory.LazyAttribute(lambda c: Campaign.calendar_status(c.opens_on, c.closes_on))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    campaign = factory.SubFactory(CampaignFactory)
    cpts = factory.SubFactory(CptsFactory)


class AnswerFactory(factory.django.DjangoModelFactory):
    """An answer stored as given: tests/helpers.make_response cleans values by the rules first."""

    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    other_text = ""


class ResponseScoreFactory(factory.Factory):
    """The scores of a submitted response under a grid, computed and stored by the scoring
    service itself (never written by hand): `ResponseScoreFactory(response=…, grid=…)`."""

    class Meta:
        model = ResponseScore

    @classmethod
    def _create(cls, model_class, *, response, grid):
        return response_score(response=response, grid=grid).score
