from django.apps import AppConfig


class CollegialConfig(AppConfig):
    name = "collegial"
    verbose_name = "Évaluation collégiale"
