"""Bench-only urlconf (cpts_portal.settings_bench): the production URLs plus the bare views."""

from django.urls import path

from benchmarks import views
from cpts_portal.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    path("bench/bare/<int:pk>/", views.bare_save, name="bench_bare_save"),
    path("bench/bare/tableau-de-bord/", views.bare_overview, name="bench_bare_overview"),
    *production_urlpatterns,
]
