from django.urls import path

from improvement import views

app_name = "improvement"

# Mounted at the site's root: the pages sit beside the results and questionnaire pages they
# extend.
urlpatterns = [
    path("resultats/reponses/<int:pk>/progression/", views.pistes, name="pistes"),
    path("resultats/reponses/<int:pk>/plan/", views.plan, name="plan"),
    path(
        "resultats/reponses/<int:pk>/plan/suggestions/",
        views.plan_add_suggestions,
        name="plan_add_suggestions",
    ),
    path(
        "resultats/reponses/<int:pk>/plan/actions/<int:action_pk>/",
        views.action_update,
        name="action_update",
    ),
    path("resultats/reponses/<int:pk>/plan/partage/", views.plan_share, name="plan_share"),
    path("resultats/reponses/<int:pk>/evolution/", views.evolution, name="evolution"),
    path("resultats/plans-d-action/", views.plan_counts, name="plan_counts"),
    path("questionnaire/reponses/<int:pk>/suivi-du-plan/", views.plan_review, name="plan_review"),
]
