from django.urls import path

from questionnaire import views

app_name = "questionnaire"

urlpatterns = [
    path("", views.my_cpts, name="my_cpts"),
    path("<slug:campaign_slug>/cpts/<int:cpts_pk>/commencer/", views.start, name="start"),
    path("reponses/<int:pk>/section/<slug:code>/", views.section, name="section"),
    path(
        "reponses/<int:pk>/section/<slug:code>/confirmer/",
        views.confirm_carried,
        name="confirm_carried",
    ),
    path("reponses/<int:pk>/enregistrer/", views.autosave, name="autosave"),
    path("reponses/<int:pk>/", views.review, name="review"),
    path("reponses/<int:pk>/soumettre/", views.submit, name="submit"),
    path("reponses/<int:pk>/rouvrir/", views.reopen, name="reopen"),
    path("reponses/<int:pk>/historique/", views.history, name="history"),
]
