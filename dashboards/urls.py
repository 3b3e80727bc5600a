from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("graphiques/<slug:slug>.csv", views.chart_csv, name="chart_csv"),
    path("cpts/<int:pk>/", views.cpts_detail, name="cpts"),
    path("cpts/recherche/", views.cpts_search, name="cpts_search"),
    path("comparer/", views.compare, name="compare"),
]
