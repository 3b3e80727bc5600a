"""Load the official INSEE regions (18) and departments (101) from territories/data/*.csv."""

from django.db import migrations

from territories.reference import load_reference_territories


def load(apps, schema_editor):
    load_reference_territories(
        apps.get_model("territories", "Region"), apps.get_model("territories", "Department")
    )


class Migration(migrations.Migration):
    dependencies = [("territories", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
