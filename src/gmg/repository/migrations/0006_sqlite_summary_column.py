"""SQLite's FTS5 table gets a separate summary column, the only one snippets are cut from.

The index is derived data, so the table is dropped and recreated; ``gmg reindex`` (run by
every ``gmg load``) fills it again.
"""

from django.db import migrations

from gmg.repository.search import INDEX_TABLE


def recreate(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(f"DROP TABLE IF EXISTS {INDEX_TABLE}")
    schema_editor.execute(
        f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5("
        "title, summary, extra, tokenize='porter unicode61 remove_diacritics 2')"
    )


class Migration(migrations.Migration):
    dependencies = [("repository", "0005_search_index_text")]
    operations = [migrations.RunPython(recreate, migrations.RunPython.noop)]
