"""The open-data package on the site: a page describing it and the zip to download.

The zip is the one ``gmg export --format zip`` writes, always for the anonymous viewer (the
public record, whoever asks). It is a derived file (``gmg.core.derived_files``): built once
per version of the record (the newest audit entry's id, with the code's salt), kept on disk
under ``GMG_DATA_DIR/derived``, written under a temporary name and moved into place, so no
request, worker or server ever reads half a zip; two processes building at once write the
same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from gmg.core.derived_files import open_derived
from gmg.core.page_cache import cache_public_page
from gmg.record import opendata


def _build() -> bytes:
    return opendata.zip_bytes(opendata.public_bundle())


def open_package() -> tuple[BinaryIO, str]:
    """The zip of the public record as it is now, open, and its ETag; built if need be."""
    return open_derived(opendata.NAME, ".zip", _build)


@dataclass(frozen=True)
class TableSummary:
    name: str
    description: str
    rows: int
    columns: list[str]


@dataclass(frozen=True)
class Summary:
    title: str
    version: str
    size: int
    tables: list[TableSummary]


def summarise(file: BinaryIO) -> Summary:
    """What the page says of the package, read from the zip itself (and closed)."""
    size = os.fstat(file.fileno()).st_size
    with file, zipfile.ZipFile(file) as archive:
        package = json.loads(archive.read(opendata.DESCRIPTOR))
        tables = []
        for resource in package["resources"]:
            text = archive.read(resource["path"]).decode("utf-8")
            rows = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
            tables.append(
                TableSummary(
                    name=resource["name"],
                    description=resource.get("description", ""),
                    rows=rows,
                    columns=[f["name"] for f in resource["schema"]["fields"]],
                )
            )
    return Summary(
        title=package.get("title", ""),
        version=package.get("version", ""),
        size=size,
        tables=tables,
    )


@require_safe
@cache_public_page
def open_data(request: HttpRequest) -> HttpResponse:
    file, _etag = open_package()
    summary = summarise(file)
    return render(
        request,
        "site/open_data.html",
        {
            "package": summary,
            "file_name": opendata.ZIP_NAME,
            "total_rows": sum(t.rows for t in summary.tables),
        },
    )


@require_safe
def open_data_zip(request: HttpRequest) -> HttpResponse | FileResponse:
    file, etag = open_package()
    response: HttpResponse | FileResponse
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        file.close()
        response = HttpResponseNotModified()
    else:
        response = FileResponse(
            file, as_attachment=True, filename=opendata.ZIP_NAME, content_type="application/zip"
        )
    response["ETag"] = etag
    # Ask again each time; the ETag makes the answer a 304 until the record changes.
    response["Cache-Control"] = "public, no-cache"
    return response
