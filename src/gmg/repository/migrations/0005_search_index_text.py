"""PostgreSQL's index table keeps the indexed text too, so snippets need no second read."""

from django.db import migrations

from gmg.repository.search import INDEX_TABLE


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {INDEX_TABLE} ADD COLUMN IF NOT EXISTS title text NOT NULL DEFAULT '', "
            "ADD COLUMN IF NOT EXISTS body text NOT NULL DEFAULT ''"
        )


class Migration(migrations.Migration):
    dependencies = [("repository", "0004_postgres_rum")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
