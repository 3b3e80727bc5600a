from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("donnees-personnelles/", views.notice, name="notice"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("compte/mes-donnees/", views.account_data, name="account_data"),
]
