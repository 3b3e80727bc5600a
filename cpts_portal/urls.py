from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("connexion/", account_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("sante/", account_views.health, name="health"),
    path("", include("accounts.urls")),
    path("", include("privacy.urls")),
    path("questionnaire/", include("questionnaire.urls")),
    path("questionnaire/", include("collegial.urls")),
    path("resultats/", include("scoring.urls")),
    path("", include("improvement.urls")),
    path("tableaux-de-bord/", include("dashboards.urls")),
    path("exports/", include("exports.urls")),
    path("federation/campagnes/", include("campaigns.urls")),
    path("", include("reports.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "cpts_portal.errors.bad_request"
