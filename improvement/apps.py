from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "improvement"
    verbose_name = "Pistes de progression et plans d'action"

    def ready(self) -> None:
        # The questionnaire and the results pages offer extension points; this app plugs its
        # plan follow-up into them, so that they never import it (apps depend one way).
        from improvement import hooks

        hooks.register()
