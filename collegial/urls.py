from django.urls import path

from collegial import views

app_name = "collegial"

urlpatterns = [
    path("reponses/<int:pk>/collegiale/", views.setup, name="setup"),
    path("reponses/<int:pk>/mon-evaluation/", views.rating, name="rating"),
    path(
        "reponses/<int:pk>/mon-evaluation/section/<slug:code>/",
        views.rating_section,
        name="rating_section",
    ),
    path(
        "reponses/<int:pk>/mon-evaluation/enregistrer/",
        views.rating_autosave,
        name="rating_autosave",
    ),
    path("reponses/<int:pk>/mon-evaluation/terminer/", views.rating_finish, name="rating_finish"),
    path("reponses/<int:pk>/mon-evaluation/reprendre/", views.rating_resume, name="rating_resume"),
    path("reponses/<int:pk>/synthese/", views.synthesis, name="synthesis"),
    path("reponses/<int:pk>/synthese/ouvrir/", views.synthesis_open, name="synthesis_open"),
    path("reponses/<int:pk>/synthese/retenir/", views.synthesis_keep, name="synthesis_keep"),
    path(
        "reponses/<int:pk>/synthese/retenir-unanimes/",
        views.synthesis_keep_unanimous,
        name="synthesis_keep_unanimous",
    ),
    path("reponses/<int:pk>/synthese/ordre-du-jour/", views.agenda, name="agenda"),
]
