"""Bench-only urlconf (cpts_portal.settings_bench): the production URLs plus the bare view."""

from django.urls import path

from benchmarks import views
from cpts_portal.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    path("bench/bare/<int:pk>/", views.bare_save, name="bench_bare_save"),
    *production_urlpatterns,
]
