import pytest

from territories.models import Department, Region


@pytest.mark.django_db
def test_all_regions_and_departments_are_loaded_with_insee_codes():
    assert Region.objects.count() == 18
    assert Department.objects.count() == 101
    overseas = dict(Department.objects.filter(code__startswith="97").values_list("code", "name"))
    assert overseas == {
        "971": "Guadeloupe",
        "972": "Martinique",
        "973": "Guyane",
        "974": "La Réunion",
        "976": "Mayotte",
    }
    assert Department.objects.get(code="2A").region.name == "Corse"
    assert Department.objects.get(code="93").region.code == "11"
    assert set(Region.objects.values_list("code", flat=True)) >= {"01", "02", "03", "04", "06"}
    assert not Region.objects.filter(departments__isnull=True).exists()
