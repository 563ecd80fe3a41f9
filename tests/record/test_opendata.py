"""The public record as an open-data package: `gmg export --format zip|csv|json`, `gmg load`
of a package, and the site's /data/ page and its zip.

Round trips go export -> empty database -> load -> export and compare the whole bundle, the
row counts of every table and of every model. The package is checked with the
``frictionless`` library; restricted records are planted with unique markers, which no
package may hold; the site's zip is built once per version of the record.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gmg.accounts.models import AuditEntry
from gmg.accounts.services import Actor
from gmg.cli import cmd_export, cmd_load
from gmg.core.services import save_record
from gmg.core.viewer import ANONYMOUS, Viewer
from gmg.governance.models import Meeting
from gmg.record import opendata
from gmg.record.exporter import export_bundle
from gmg.record.loader import RECORD_MODELS, record_is_empty
from gmg.registry.models import Body, Entity
from gmg.repository.models import Output, OutputLink
from gmg.repository.services import save_output
from gmg.workgroups.models import WorkingGroup

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("opendata-test")
MARKER = "ZQXOPENDATAHIDDEN"
SECRETARIAT = Viewer(user_id=-1, is_secretariat=True)


def counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in RECORD_MODELS}


def empty_the_record() -> None:
    """Delete the whole record, as a replacing load does, leaving an empty database."""
    Body.objects.update(coordinator=None, secretariat=None, predecessor=None)
    Entity.objects.update(parent=None)
    for model in RECORD_MODELS:
        model._default_manager.all().delete()
    assert record_is_empty()


def export(fmt: str, out: Path, capsys) -> None:
    assert cmd_export(argparse.Namespace(format=fmt, out=str(out))) == 0
    capsys.readouterr()


def load(path: Path, capsys, *, replace: bool = False) -> tuple[int, str]:
    code = cmd_load(argparse.Namespace(bundle=str(path), replace=replace))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def zip_texts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def add_links() -> None:
    """The shipped record has no links: give two outputs some, one with a label."""
    first, second = Output.objects.order_by("pk")[:2]
    OutputLink.objects.create(output=first, url="https://example.org/a", label="The text")
    OutputLink.objects.create(output=first, url="https://example.org/b")
    OutputLink.objects.create(output=second, url="https://example.org/c")


# -- the tables ------------------------------------------------------------------------------


def test_the_tables_turn_back_into_the_very_same_bundle():
    add_links()
    bundle = opendata.public_bundle()
    tables = opendata.bundle_to_tables(bundle)
    rebuilt = opendata.tables_to_bundle(
        tables, version=bundle["version"], default_body=bundle["default_body"]
    )
    assert rebuilt == bundle
    assert json.dumps(rebuilt) == json.dumps(bundle)  # in the same order, too
    assert len(tables["outputs"]) == 153
    assert len(tables["output_links"]) == 3
    assert len(tables["citations"]) == 424
    claims = [r for r in tables["citations"] if r["field"]]
    assert {r["field"] for r in claims} >= {"date", "founded", "established"}
    assert len(tables["output_dates"]) > 0  # outputs stated with several dates


def test_restricted_records_and_their_audiences_have_tables_too():
    """The conversion is total: a secretariat's export (audiences, other visibilities)."""
    plant_restricted()
    bundle = export_bundle(SECRETARIAT, version="v")
    tables = opendata.bundle_to_tables(bundle)
    assert {r["record"] for r in tables["audience_entities"]} == {"zqx-od-output"}
    assert {r["visibility"] for r in tables["meetings"]} >= {"public", "secretariat"}
    assert opendata.tables_to_bundle(tables, version="v", default_body="gmg") == bundle


def test_an_unknown_field_is_refused_rather_than_lost():
    bundle = opendata.public_bundle()
    bundle["outputs"][0]["colour"] = "blue"
    with pytest.raises(ValueError, match="colour"):
        opendata.bundle_to_tables(bundle)


# -- round trips through each layout into an empty database --------------------------------


@pytest.mark.parametrize(
    ("fmt", "name"), [("zip", "gmg-record.zip"), ("csv", "csv-package"), ("json", "json-pkg")]
)
def test_export_then_load_into_an_empty_database_gives_the_same_record(tmp_path, capsys, fmt, name):
    add_links()
    before = opendata.public_bundle()
    before_counts = counts()
    before_rows = {t: len(r) for t, r in opendata.bundle_to_tables(before).items()}
    before_zip = opendata.zip_bytes(before)
    out = tmp_path / name
    export(fmt, out, capsys)
    if fmt != "zip":
        assert (out / "datapackage.json").is_file() and (out / "README.md").is_file()
        assert sorted(p.name for p in (out / "data").iterdir()) == sorted(
            f"{t.name}.{fmt}" for t in opendata.TABLES
        )

    empty_the_record()
    code, said = load(out, capsys)
    assert code == 0, said
    assert f"loaded {out.name} (version {before['version']})" in said

    after = opendata.public_bundle()
    assert after == before
    assert {t: len(r) for t, r in opendata.bundle_to_tables(after).items()} == before_rows
    assert counts() == before_counts
    # Export, load, export: the very same zip.
    assert opendata.zip_bytes(after) == before_zip


def test_a_descriptor_path_loads_too(tmp_path, capsys):
    export("csv", tmp_path / "pkg", capsys)
    before = opendata.public_bundle()
    code, said = load(tmp_path / "pkg" / "datapackage.json", capsys, replace=True)
    assert code == 0, said
    assert opendata.public_bundle() == before


def test_the_cli_round_trip_in_real_processes(tmp_path):
    """`gmg export --format zip` from one database, `gmg load` of it into a new one."""
    from tests.cli.test_cli import run_gmg

    first, second = tmp_path / "first", tmp_path / "second"
    run_gmg(first, "load")
    run_gmg(first, "export", "--format", "zip", "--out", str(tmp_path / "a.zip"))
    loaded = run_gmg(second, "load", str(tmp_path / "a.zip"))
    assert "153 Output" in loaded.stdout and "424 Citation" in loaded.stdout
    run_gmg(second, "export", "--format", "zip", "--out", str(tmp_path / "b.zip"))
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert "7 source conflict(s) kept side by side, 0 error(s)" in run_gmg(second, "check").stdout


# -- the package is a valid Data Package ----------------------------------------------------


def frictionless_errors(path: Path) -> list[list]:
    import frictionless

    report = frictionless.validate(str(path))
    return report.flatten(["type", "resourceName", "rowNumber", "fieldName", "note"])


def test_frictionless_finds_the_package_valid(tmp_path, capsys):
    export("csv", tmp_path / "csv", capsys)
    export("json", tmp_path / "json", capsys)
    export("zip", tmp_path / "gmg-record.zip", capsys)
    assert frictionless_errors(tmp_path / "csv" / "datapackage.json") == []
    assert frictionless_errors(tmp_path / "gmg-record.zip") == []
    # frictionless cannot read an empty JSON array as a table (it infers the columns from the
    # first row): the empty tables are its only complaint about the JSON layout.
    empty = {
        t for t, rows in opendata.bundle_to_tables(opendata.public_bundle()).items() if not rows
    }
    assert empty == {"output_links", "audience_entities"}
    errors = frictionless_errors(tmp_path / "json" / "datapackage.json")
    complaints = {
        (kind, next((t for t in empty if f"data/{t}.json" in note), note))
        for kind, _, _, _, note in errors
    }
    assert len(errors) == len(empty)
    assert complaints == {("source-error", t) for t in empty}


def test_the_descriptor_has_types_keys_and_the_readme_says_what_it_is(tmp_path, capsys):
    export("csv", tmp_path / "pkg", capsys)
    package = json.loads((tmp_path / "pkg" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "tabular-data-package"
    assert package["version"] == "2026.11.1"
    assert "licenses" not in package  # the sources state none: none is invented
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == [t.name for t in opendata.TABLES]
    outputs = resources["outputs"]["schema"]
    assert outputs["primaryKey"] == ["key"]
    assert {"fields": "body", "reference": {"resource": "bodies", "fields": "key"}} in outputs[
        "foreignKeys"
    ]
    fields = {f["name"]: f["type"] for f in resources["chair_terms"]["schema"]["fields"]}
    assert fields["interim"] == "boolean"
    assert {f["name"]: f["type"] for f in resources["documents"]["schema"]["fields"]}[
        "year"
    ] == "integer"
    readme = (tmp_path / "pkg" / "README.md").read_text(encoding="utf-8")
    assert "Licence: not stated" in readme
    assert "Data version: 2026.11.1" in readme
    assert "| `outputs` | 153 |" in readme and "| `citations` | 424 |" in readme
    assert "gmg load gmg-record.zip" in readme


def test_the_zip_is_deterministic(tmp_path, capsys):
    export("zip", tmp_path / "one.zip", capsys)
    export("zip", tmp_path / "two.zip", capsys)
    data = (tmp_path / "one.zip").read_bytes()
    assert data == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == [
        "datapackage.json",
        "README.md",
        *(f"data/{t.name}.csv" for t in opendata.TABLES),
    ]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


# -- nothing restricted in any package -----------------------------------------------------


def plant_restricted() -> list[str]:
    """A members-only output and event, and a secretariat-only meeting, all marked; returns
    every marker string and key planted."""
    body = Body.objects.get(key="gmg")
    group = WorkingGroup.objects.get(key="wg-data-research")
    save_output(
        Output(
            key="zqx-od-output",
            body=body,
            type="publication",
            title=f"{MARKER} handbook",
            description=f"{MARKER}-description",
            occasion=f"{MARKER}-occasion",
            date="2017",
            visibility="entities",
            working_group=group,
        ),
        by=SYSTEM,
        entity_links=[(Entity.objects.get(acronym="IOM"), "lead")],
        audience_entities=[Entity.objects.get(acronym="UNICEF")],
    )
    save_output(
        Output(
            key="zqx-od-event",
            body=body,
            type="event",
            title=f"{MARKER} side event",
            location=f"{MARKER}-room",
            date="2018-05",
            visibility="body",
        ),
        by=SYSTEM,
    )
    save_record(
        Meeting(
            key="zqx-od-meeting",
            body=body,
            kind=Meeting.Kind.WORKING_LEVEL,
            title=f"{MARKER} meeting",
            location=f"{MARKER}-place",
            date="2018-06-01",
            visibility="secretariat",
        ),
        by=SYSTEM,
    )
    return [MARKER, MARKER.lower(), "zqx-od-output", "zqx-od-event", "zqx-od-meeting"]


def assert_nothing_hidden(label: str, texts: dict[str, str] | str, hidden: list[str]) -> None:
    texts = texts if isinstance(texts, dict) else {label: texts}
    for name, text in texts.items():
        for secret in hidden:
            assert secret not in text, f"{label}: {name} holds {secret!r}"


def test_no_restricted_record_reaches_any_package(tmp_path, capsys, client):
    from tests.members.conftest import PEOPLE, make_person, signed_in_client

    public_before = opendata.zip_bytes(opendata.public_bundle())
    hidden = plant_restricted()
    # Positive control: the planted records exist and someone entitled sees them.
    assert MARKER in json.dumps(export_bundle(SECRETARIAT))
    assert opendata.public_bundle() == export_bundle(ANONYMOUS, version="2026.11.1")

    package = opendata.zip_bytes(opendata.public_bundle())
    assert package == public_before  # the public package did not change at all
    assert_nothing_hidden("zip", zip_texts(package), hidden)

    # The CLI, in every layout (and the bundle formats).
    for fmt, name in [
        ("zip", "x.zip"),
        ("csv", "csv"),
        ("json", "json"),
        ("json", "b.json"),
        ("yaml", "b.yaml"),
    ]:
        export(fmt, tmp_path / name, capsys)
    assert_nothing_hidden("gmg export zip", zip_texts((tmp_path / "x.zip").read_bytes()), hidden)
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and path.suffix != ".zip":
            assert_nothing_hidden(f"gmg export {path}", path.read_text(encoding="utf-8"), hidden)

    # The site, to the public and to the secretariat (who sees everything elsewhere).
    secretariat = make_person("secretariat", *PEOPLE["secretariat"], totp=True)
    member = signed_in_client(secretariat)
    assert MARKER in member.get("/outputs/zqx-od-output/").content.decode()  # control
    for who, browser in (("anonymous", client), ("secretariat", member)):
        response = browser.get("/data/gmg-record.zip")
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        assert data == package, who
        page = browser.get("/data/").content.decode()
        assert_nothing_hidden(f"/data/ as {who}", page, hidden)
        assert "<td><code>outputs</code></td><td>153</td>" in page


# -- the site's zip -------------------------------------------------------------------------


def get_zip(client, **headers):
    response = client.get("/data/gmg-record.zip", headers=headers)
    data = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, data


def derived(settings) -> list[Path]:
    folder = Path(settings.DATA_DIR) / "derived"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_the_site_zip_is_built_once_per_version_of_the_record(client, monkeypatch, settings):
    builds = []
    real = opendata.zip_bytes

    def counted(bundle):
        builds.append(1)
        return real(bundle)

    monkeypatch.setattr(opendata, "zip_bytes", counted)

    first, data = get_zip(client)
    assert first.status_code == 200 and len(builds) == 1
    assert first["Content-Type"] == "application/zip"
    assert 'filename="gmg-record.zip"' in first["Content-Disposition"]
    etag = first["ETag"]
    newest_audit_entry = AuditEntry.objects.order_by("-id").first().id
    assert etag.startswith(f'"gmg-record.{newest_audit_entry}-')
    [cached] = derived(settings)  # the zip alone: no temporary file left
    assert cached.suffix == ".zip" and etag.strip('"') in cached.name
    assert cached.read_bytes() == data == real(opendata.public_bundle())
    mtime = cached.stat().st_mtime_ns

    # Served from the file: no rebuild, one query (the record's version).
    with CaptureQueriesContext(connection) as queries:
        again, same = get_zip(client)
    assert again["ETag"] == etag and same == data
    assert len(builds) == 1 and len(queries) == 1
    assert cached.stat().st_mtime_ns == mtime
    assert client.get("/data/gmg-record.zip", headers={"If-None-Match": etag}).status_code == 304
    page = client.get("/data/")
    assert page.status_code == 200 and len(builds) == 1

    # A write to the record: a new version, a new zip with the new output.
    save_output(
        Output(
            key="zqx-od-new",
            body=Body.objects.get(key="gmg"),
            type="publication",
            title="A new public handbook ZQXNEWONE",
            date="2018",
        ),
        by=SYSTEM,
    )
    changed, new_data = get_zip(client, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(builds) == 2 and new_data != data
    [new_file] = derived(settings)  # the older version is gone
    assert new_file != cached and new_file.read_bytes() == new_data
    outputs = zip_texts(new_data)["data/outputs.csv"]
    assert "ZQXNEWONE" in outputs
    assert len(list(csv.reader(io.StringIO(outputs)))) == 1 + 154
    page = client.get("/data/").content.decode()
    assert "<td><code>outputs</code></td><td>154</td>" in page
    assert "2026.11.1" in page and 'href="/data/gmg-record.zip"' in page


def test_a_failed_build_leaves_nothing_behind(client, monkeypatch, settings):
    """A build that fails leaves no file (half a zip is never served); the next request
    builds it whole."""

    def broken(bundle):
        raise OSError("disk full")

    monkeypatch.setattr(opendata, "zip_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        client.get("/data/gmg-record.zip")
    assert derived(settings) == []
    monkeypatch.undo()
    response, data = get_zip(client)
    assert response.status_code == 200 and zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_the_page_and_the_footer(client):
    page = client.get("/data/").content.decode()
    assert "<h1>Open data</h1>" in page
    for table in opendata.TABLES:
        assert f"<code>{table.name}</code>" in page
    assert 'href="/data/"' in client.get("/").content.decode()


# -- bad packages: exit 2, a clear message, nothing loaded ---------------------------------


def csv_package(tmp_path: Path, capsys) -> Path:
    out = tmp_path / "pkg"
    export("csv", out, capsys)
    return out


def edit_csv(path: Path, change) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    change(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def corrupt_zip(tmp_path, capsys):
    path = tmp_path / "broken.zip"
    export("zip", path, capsys)
    path.write_bytes(path.read_bytes()[:2000])
    return path, "not a readable zip file"


def corrupt_member(tmp_path, capsys):
    """The zip's directory is intact but one table's compressed bytes are garbled."""
    path = tmp_path / "garbled.zip"
    export("zip", path, capsys)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("data/outputs.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    return path, "table outputs: data/outputs.csv: cannot read it from"


def missing_table(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)
    (out / "data" / "outputs.csv").unlink()
    return out, "table outputs: data/outputs.csv: the file is missing"


def missing_resource(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] != "facts"]
    (out / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return out, "datapackage.json: table facts: missing (no resource of that name)"


def bad_type(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)

    def change(rows):
        rows[3][0] = "three"  # memberships.id

    edit_csv(out / "data" / "memberships.csv", change)
    return out, "table memberships, row 3, column id: 'three' is not an integer"


def bad_boolean(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)

    def change(rows):
        rows[2][rows[0].index("interim")] = "maybe"

    edit_csv(out / "data" / "chair_terms.csv", change)
    return out, "table chair_terms, row 2, column interim: 'maybe' is not a boolean"


def unknown_column(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)

    def change(rows):
        rows[0].append("colour")
        for row in rows[1:]:
            row.append("blue")

    edit_csv(out / "data" / "themes.csv", change)
    return out, "table themes (data/themes.csv), column colour: unknown column"


def unknown_reference(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)

    def change(rows):
        rows[1][rows[0].index("entity")] = "NOSUCH"

    edit_csv(out / "data" / "output_entities.csv", change)
    return out, "table output_entities, row 1, column entity: no row 'NOSUCH' in table entities"


def bad_json_type(tmp_path, capsys):
    out = tmp_path / "json"
    export("json", out, capsys)
    path = out / "data" / "documents.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    rows[0]["year"] = "two thousand"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return out, "table documents, row 1, column year: 'two thousand' is not an integer"


def loader_problem(tmp_path, capsys):
    """Tables that are well-formed but a record the loader refuses (an impossible date)."""
    out = csv_package(tmp_path, capsys)

    def change(rows):
        rows[1][rows[0].index("joined")] = "2003-02-30"

    edit_csv(out / "data" / "memberships.csv", change)
    return out, "'2003-02-30' is not a real date"


@pytest.mark.parametrize(
    "make",
    [
        corrupt_zip,
        corrupt_member,
        missing_table,
        missing_resource,
        bad_type,
        bad_boolean,
        unknown_column,
        unknown_reference,
        bad_json_type,
        loader_problem,
    ],
)
def test_a_bad_package_is_refused_whole(tmp_path, capsys, make):
    path, message = make(tmp_path, capsys)
    before, loads = opendata.public_bundle(), AuditEntry.objects.filter(action="record.load")
    loads_before = loads.count()
    code, said = load(path, capsys, replace=True)
    assert code == 2
    assert f"gmg load: {path}: nothing was loaded." in said
    assert message in said
    assert loads.count() == loads_before
    assert opendata.public_bundle() == before


def test_a_bad_package_leaves_an_empty_database_empty(tmp_path, capsys):
    path, message = bad_type(tmp_path, capsys)
    empty_the_record()
    code, said = load(path, capsys)
    assert code == 2 and message in said
    assert record_is_empty()


def test_a_directory_without_a_descriptor_is_refused(tmp_path, capsys):
    out = csv_package(tmp_path, capsys)
    shutil.move(out / "datapackage.json", tmp_path / "elsewhere.json")
    code, said = load(out, capsys, replace=True)
    assert code == 2 and "no datapackage.json in this directory" in said


def test_bundle_files_still_load(tmp_path, capsys):
    export("json", tmp_path / "bundle.json", capsys)
    assert json.loads((tmp_path / "bundle.json").read_text(encoding="utf-8"))["format"]
    code, said = load(tmp_path / "bundle.json", capsys, replace=True)
    assert code == 0, said


def test_export_writes_the_zip_to_standard_output(capsysbinary):
    assert cmd_export(argparse.Namespace(format="zip", out=None)) == 0
    assert capsysbinary.readouterr().out == opendata.zip_bytes(opendata.public_bundle())
