"""Committed data, for tests whose threads use their own database connections.

Such a test must be transactional, and a transactional test ends by flushing every table:
that would take the GMG record, loaded once for the whole session, from every test that
runs after it. ``committed_db`` gives the test a transactional database and loads the
record again after the flush.

Request ``committed_db`` first in the test's arguments, and do not mark the test with
``django_db``: the marker's own fixture would open the database before ``committed_db``
could arrange to outlive the flush.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from gmg.accounts.services import Actor
from gmg.record.bundle import DEFAULT_BUNDLE, read_bundle

# The audit log's append-only triggers, as the migration creates them.
_AUDIT = importlib.import_module(
    "gmg.accounts.migrations.0003_append_only_audit_and_throttle_table"
)


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture
def _record_reloaded(django_db_blocker):
    """Set up before the database and torn down after its flush: loads the record again."""
    yield
    from gmg.record.loader import load_bundle

    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            _run(_AUDIT.SQLITE)
        load_bundle(read_bundle(DEFAULT_BUNDLE), by=Actor.system("test"), replace=True)


@pytest.fixture
def committed_db(_record_reloaded, transactional_db, django_db_blocker):
    """A transactional database; the record is back once the test's flush has run."""
    yield
    if connection.vendor == "sqlite":
        # SQLite's flush deletes the rows, which the audit log's triggers refuse
        # (PostgreSQL truncates, which they do not see): lift them for the flush.
        with django_db_blocker.unblock():
            _run(_AUDIT.SQLITE_REVERSE)
