from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.index, name="index"),
    path("fichiers/<int:pk>/", views.job, name="job"),
    path("fichiers/<int:pk>/etat/", views.job_status, name="job_status"),
    path("fichiers/<int:pk>/telecharger/", views.job_download, name="job_download"),
]
