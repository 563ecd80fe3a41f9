"""Files derived from the whole record (report PDFs, the open-data package), kept on disk
under ``GMG_DATA_DIR/derived`` and rebuilt after any write.

The version is the newest audit entry's id (``page_cache.record_version``): every write is
audited, so a file built under version N is never served once anything has changed. A file
is written to a temporary name and moved into place, so a reader (another worker, another
request) sees either no file or the whole file, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from gmg.core.page_cache import CODE_SALT, record_version


def _folder() -> Path:
    folder = Path(settings.DATA_DIR) / "derived"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def derived_file(name: str, suffix: str, build: Callable[[], bytes]) -> tuple[Path, str]:
    """The file ``name`` for the record as it is now, built by ``build`` if missing.

    Returns its path and an ETag. ``name`` must be unique per content (e.g. include the
    variant); older versions of the same name are removed once the new one is in place.
    """
    salt = hashlib.sha256(CODE_SALT.encode()).hexdigest()[:8]  # new code, new files
    version = f"{record_version()}-{salt}"
    folder = _folder()
    path = folder / f"{name}.{version}{suffix}"
    if not path.exists():
        content = build()
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for older in folder.glob(f"{name}.*{suffix}"):  # a version has no dot: same name only
            if older != path:
                older.unlink(missing_ok=True)
    return path, f'"{name}.{version}"'


def open_derived(name: str, suffix: str, build: Callable[[], bytes]) -> tuple[BinaryIO, str]:
    """``derived_file``, opened: the file as it is now and its ETag. A newer version may
    replace the file between finding and opening it; then the newer one is taken."""
    for _attempt in range(3):
        path, etag = derived_file(name, suffix, build)
        try:
            return path.open("rb"), etag
        except FileNotFoundError:
            continue
    path, etag = derived_file(name, suffix, build)
    return path.open("rb"), etag
