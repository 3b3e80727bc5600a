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
]
