"""The reports' URLs live under the pages they belong to: a response's results and the
territory dashboards (included at the site's root)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("resultats/reponses/<int:pk>/rapport.pdf", views.report_pdf, name="pdf"),
    path("tableaux-de-bord/rapports/", views.bundle, name="bundle"),
]
