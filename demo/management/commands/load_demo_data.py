from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.services import DEMO_PASSWORD, DEMO_USERS, demo_data_load
from questionnaire.management.commands.load_questionnaire import DEFAULT_PATH
from questionnaire.models import QuestionnaireVersion
from questionnaire.services import questionnaire_load


class Command(BaseCommand):
    help = "Load deterministic demo data (CPTS, users, three campaigns, answers). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="password of demo users")
        parser.add_argument(
            "--force", action="store_true", help="load even when DEBUG is off (never in production)"
        )
        parser.add_argument("--questionnaire", default="miller-2022")

    def handle(self, *args, password, force, questionnaire, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusé : DEBUG est désactivé (production ?). Ajoutez --force pour charger "
                "quand même les données de démonstration."
            )
        version = QuestionnaireVersion.objects.filter(code=questionnaire).first()
        if version is None:
            version = questionnaire_load(path=DEFAULT_PATH).version
        result = demo_data_load(version=version, password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Démo : {result['cpts']} CPTS, {result['responses_created']} réponses créées."
            )
        )
        self.stdout.write(f"Comptes de démonstration (mot de passe : {password}) :")
        for username, _first, _last, role, territory, cpts in DEMO_USERS:
            scope = f" {territory}" if territory else ""
            members = f" ({', '.join(cpts)})" if cpts else ""
            self.stdout.write(f"  {username:<20} {role.label}{scope}{members}")
