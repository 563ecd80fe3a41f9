"""The search index table: its schema is migrated, its contents are derived (gmg reindex)."""

from django.db import migrations

from gmg.repository.search import INDEX_TABLE

SQLITE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX_TABLE} USING fts5("
    "title, body, tokenize='porter unicode61 remove_diacritics 2')"
)
POSTGRES = [
    f"CREATE TABLE IF NOT EXISTS {INDEX_TABLE} "
    "(output_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {INDEX_TABLE}_gin ON {INDEX_TABLE} USING gin (document)",
]


def create(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else [SQLITE]
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {INDEX_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("repository", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
