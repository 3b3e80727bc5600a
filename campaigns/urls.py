from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("nouvelle/", views.campaign_create, name="create"),
    path("desinscription/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("resume-hebdomadaire/", views.digest, name="digest"),
    path("<slug:slug>/", views.campaign_detail, name="detail"),
    path("<slug:slug>/modifier/", views.campaign_edit, name="edit"),
    path("<slug:slug>/etat/<slug:action>/", views.campaign_transition, name="transition"),
    path("<slug:slug>/participants/ajouter/", views.participants_add, name="participants_add"),
    path(
        "<slug:slug>/participants/importer/",
        views.participants_import,
        name="participants_import",
    ),
    path(
        "<slug:slug>/participants/<int:pk>/exclusion/",
        views.participant_exclusion,
        name="participant_exclusion",
    ),
    path("<slug:slug>/invitations/", views.invitations_send, name="invitations"),
    path("<slug:slug>/relances/", views.reminder_add, name="reminder_add"),
    path("<slug:slug>/relances/<int:pk>/supprimer/", views.reminder_delete, name="reminder_delete"),
    path("<slug:slug>/suivi/", views.tracking, name="tracking"),
    path("<slug:slug>/suivi.csv", views.tracking_csv, name="tracking_csv"),
]
