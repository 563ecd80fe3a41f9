"""The audit log refuses UPDATE and DELETE in the database itself, for everyone; and the
table the sign-in throttle counts in (when no Redis is configured)."""

from django.core.management import call_command
from django.db import migrations

SQLITE = [
    """CREATE TRIGGER accounts_auditentry_no_update BEFORE UPDATE ON accounts_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER accounts_auditentry_no_delete BEFORE DELETE ON accounts_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_auditentry_no_update",
    "DROP TRIGGER IF EXISTS accounts_auditentry_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION accounts_auditentry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER accounts_auditentry_append_only
       BEFORE UPDATE OR DELETE ON accounts_auditentry
       FOR EACH ROW EXECUTE FUNCTION accounts_auditentry_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_auditentry_append_only ON accounts_auditentry",
    "DROP FUNCTION IF EXISTS accounts_auditentry_append_only()",
]


def add_triggers(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    statements = (
        POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for statement in statements:
        schema_editor.execute(statement)


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_people_roles_invitations_tokens")]

    operations = [
        migrations.RunPython(add_triggers, drop_triggers),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
