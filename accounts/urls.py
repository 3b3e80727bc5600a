from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("compte/", views.account, name="account"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path("compte/supprimer/", views.account_delete, name="account_delete"),
    path("compte/double-authentification/", views.second_factor, name="second_factor"),
    path(
        "compte/double-authentification/activer/",
        views.second_factor_enrol,
        name="second_factor_enrol",
    ),
    path("connexion/code/", views.second_factor_verify, name="second_factor_verify"),
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
