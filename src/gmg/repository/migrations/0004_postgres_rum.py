"""On PostgreSQL, rank top-k from the index with RUM where the extension can be had.

RUM stores positions in the index, so ``ORDER BY document <=> query LIMIT k`` needs no heap
visit per match. Without the extension (or without the right to create it) the GIN index of
0002 stays, and searching still works.
"""

from django.db import migrations

from gmg.repository.search import INDEX_TABLE


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        if cursor.fetchone() is None:
            return
    schema_editor.execute("SAVEPOINT gmg_rum")
    try:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except Exception:  # noqa: BLE001 - no right to create it: keep GIN
        schema_editor.execute("ROLLBACK TO SAVEPOINT gmg_rum")
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX_TABLE}_rum ON {INDEX_TABLE} "
        "USING rum (document rum_tsvector_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_TABLE}_rum")


class Migration(migrations.Migration):
    dependencies = [("repository", "0003_output_year")]
    operations = [migrations.RunPython(create, drop)]
