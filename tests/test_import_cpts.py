import pytest
from django.core.management import CommandError, call_command

from territories.models import Cpts, TerritoryIndicator

GOOD = """code,name,department_code,stage,created_on,aci_signed_on,year,population,area_km2
NEW-1,CPTS Nouvelle,75,fonctionnement,2020-01-15,2021-03-01,2025,120000,12.5
NEW-2,CPTS Seconde;bis,2A,Ingénierie de projet en cours,15/06/2022,,,,
"""


@pytest.mark.django_db
def test_import_creates_then_updates(tmp_path, capsys):
    path = tmp_path / "cpts.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_cpts", str(path))
    assert "2 CPTS créée(s), 0 mise(s) à jour" in capsys.readouterr().out
    first = Cpts.objects.get(code="NEW-1")
    assert first.department.code == "75" and first.stage == "fonctionnement"
    assert str(first.aci_signed_on) == "2021-03-01"
    assert Cpts.objects.get(code="NEW-2").stage == "ingenierie"
    assert Cpts.objects.get(code="NEW-2").name == "CPTS Seconde;bis"
    indicator = TerritoryIndicator.objects.get(cpts=first, year=2025)
    assert indicator.population == 120000 and indicator.density == 9600.0

    path.write_text(GOOD.replace("CPTS Nouvelle", "CPTS Renommée"), encoding="utf-8")
    call_command("import_cpts", str(path))
    assert "0 CPTS créée(s), 2 mise(s) à jour" in capsys.readouterr().out
    assert Cpts.objects.get(code="NEW-1").name == "CPTS Renommée"


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_nothing_changes(tmp_path, capsys):
    path = tmp_path / "cpts.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_cpts", str(path))
    before = list(Cpts.objects.order_by("code").values())
    bad = (
        "code,name,department_code,stage,created_on,aci_signed_on,year,population\n"
        "NEW-1,CPTS Changée,75,fonctionnement,,,,\n"
        ",Sans code,99,lancée,2020-13-01,,,\n"
        "NEW-3,CPTS Trois,69,declaration,2022-01-01,2021-01-01,2025,-5\n"
        "NEW-1,Doublon,75,fonctionnement,,,,\n"
    )
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CommandError, match="3 ligne\\(s\\) invalide\\(s\\)"):
        call_command("import_cpts", str(path))
    errors = capsys.readouterr().err
    assert "Ligne 3 : code manquant" in errors
    assert "département inconnu « 99 »" in errors
    assert "stade inconnu « lancée »" in errors
    assert "created_on « 2020-13-01 » n'est pas une date" in errors
    assert (
        "Ligne 4 : la signature de l'ACI précède la création ; population ne peut pas être négatif"
        in errors
    )
    assert "Ligne 5 : code « NEW-1 » déjà présent ligne 2" in errors
    assert list(Cpts.objects.order_by("code").values()) == before
    assert not Cpts.objects.filter(code="NEW-3").exists()


@pytest.mark.django_db
def test_missing_columns_and_semicolon_files(tmp_path, capsys):
    path = tmp_path / "cpts.csv"
    path.write_text("code;name\nX;Y\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_cpts", str(path))
    assert "colonnes obligatoires absentes : department_code, stage" in capsys.readouterr().err
    path.write_text(
        "\ufeffcode;name;department_code;stage\nSEMI-1;CPTS Excel;13;declaration\n",
        encoding="utf-8",
    )
    call_command("import_cpts", str(path))
    assert Cpts.objects.get(code="SEMI-1").department.code == "13"
