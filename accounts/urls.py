from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path(
        "connexion/activer/<uidb64>/nouveau-lien/",
        views.activation_resend,
        name="activation_resend",
    ),
    path("connexion/activer/<uidb64>/<token>/", views.ActivateView.as_view(), name="activate"),
    path("connexion/mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path(
        "connexion/mot-de-passe-oublie/envoye/",
        views.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "connexion/nouveau-mot-de-passe/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("questionnaire/cpts/<int:pk>/equipe/", views.team, name="team"),
    path(
        "questionnaire/cpts/<int:pk>/equipe/<int:membership_pk>/retirer/",
        views.team_remove,
        name="team_remove",
    ),
    path("federation/utilisateurs/", views.federation_users, name="federation_users"),
    path(
        "federation/utilisateurs/<int:pk>/action/",
        views.federation_user_action,
        name="federation_user_action",
    ),
]
