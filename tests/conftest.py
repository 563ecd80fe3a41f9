"""Shared fixtures: the shipped GMG record loaded once into the test database."""

from __future__ import annotations

import os
import uuid

import pytest
from django.db import connection

from gmg.accounts.services import Actor
from gmg.record.bundle import DEFAULT_BUNDLE, read_bundle


def pytest_report_header(config):
    return f"database: {connection.vendor} ({os.environ.get('DATABASE_URL', 'SQLite default')})"


@pytest.fixture(scope="session")
def gmg_bundle():
    return read_bundle(DEFAULT_BUNDLE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, gmg_bundle, tmp_path_factory):
    """Load the GMG record through the real loader service once for the whole session."""
    from django.conf import settings

    from gmg.record.loader import load_bundle

    # The tantivy index is a directory: give the test session its own.
    settings.GMG_SEARCH_INDEX_DIR = tmp_path_factory.mktemp("search-index")
    with django_db_blocker.unblock():
        load_bundle(gmg_bundle, by=Actor.system("test-setup"), replace=True)


@pytest.fixture(scope="session", autouse=True)
def private_files(tmp_path_factory):
    """Uploaded files of the test session go to a scratch directory, never to ./data."""
    from django.core.files.storage import FileSystemStorage

    from gmg.repository.models import Document

    field = Document._meta.get_field("file")
    kept = field.storage
    field.storage = FileSystemStorage(location=tmp_path_factory.mktemp("private"), base_url=None)
    yield field.storage
    field.storage = kept


@pytest.fixture(autouse=True)
def fresh_page_cache(settings):
    """Each test starts with an empty in-memory page cache (never the data directory's)."""
    from django.core.cache import caches

    from gmg.core.page_cache import local_pages

    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-pages",
        },
    }
    caches["pages"].clear()
    local_pages.clear()
    yield


@pytest.fixture(scope="session")
def data_dirs(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(autouse=True)
def fresh_derived_files(settings, data_dirs):
    """Each test keeps the files derived from the record (gmg.core.derived_files: the
    open-data zip, report PDFs) in a data directory of its own, never in ./data: they are
    keyed by the newest audit entry's id, which a rolled-back test may hand out again."""
    settings.DATA_DIR = data_dirs / uuid.uuid4().hex


@pytest.fixture
def api(client):
    """GET a JSON API path and return (status, parsed body)."""

    def get(path: str):
        response = client.get(path)
        return response.status_code, response.json()

    return get


def engines_here() -> list[str]:
    return ["tantivy", "postgres"] if connection.vendor == "postgresql" else ["tantivy", "sqlite"]


@pytest.fixture(params=engines_here())
def engine(request, settings):
    """Each search engine this database offers, in turn, with its index rebuilt."""
    from gmg.repository import search

    settings.GMG_SEARCH_ENGINE = request.param
    search.rebuild_index()
    yield request.param
    settings.GMG_SEARCH_ENGINE = "auto"
    search.rebuild_index()
