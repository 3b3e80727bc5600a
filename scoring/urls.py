from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.index, name="index"),
    path("reponses/<int:pk>/", views.results, name="results"),
    path("reponses/<int:pk>/explication/", views.explanation, name="explanation"),
]
