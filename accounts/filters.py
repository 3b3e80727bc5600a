"""Filters of the federation's users page (django-filter)."""

import django_filters
from django.db.models import Q

from accounts.models import User
from territories.models import Cpts, Department, Region

YES_NO = [("true", "Oui"), ("false", "Non")]


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Nom ou adresse", method="filter_text")
    role = django_filters.ChoiceFilter(
        label="Rôle", choices=User.Role.choices, empty_label="Tous les rôles"
    )
    region = django_filters.ModelChoiceFilter(
        label="Région",
        queryset=Region.objects.order_by("name"),
        method="filter_region",
        empty_label="Toutes les régions",
    )
    departement = django_filters.ModelChoiceFilter(
        label="Département",
        queryset=Department.objects.order_by("code"),
        method="filter_department",
        empty_label="Tous les départements",
    )
    cpts = django_filters.ModelChoiceFilter(
        label="CPTS",
        queryset=Cpts.objects.order_by("name"),
        field_name="memberships__cpts",
        empty_label="Toutes les CPTS",
    )
    actif = django_filters.ChoiceFilter(
        label="Compte actif", choices=YES_NO, empty_label="Tous", method="filter_active"
    )
    jamais_connecte = django_filters.ChoiceFilter(
        label="Jamais connecté", choices=YES_NO, empty_label="Tous", method="filter_never_logged_in"
    )

    class Meta:
        model = User
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = (
                "form-select form-select-sm"
                if hasattr(field, "choices")
                else "form-control form-control-sm"
            )

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "true")

    def filter_never_logged_in(self, queryset, name, value):
        return queryset.filter(last_login__isnull=value == "true")

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(username__icontains=value)
        )

    def filter_region(self, queryset, name, value):
        """An ARS officer of the region, a CPAM agent or a CPTS team of one of its departments."""
        return queryset.filter(
            Q(region=value)
            | Q(department__region=value)
            | Q(memberships__cpts__department__region=value)
        ).distinct()

    def filter_department(self, queryset, name, value):
        return queryset.filter(
            Q(department=value) | Q(memberships__cpts__department=value)
        ).distinct()
