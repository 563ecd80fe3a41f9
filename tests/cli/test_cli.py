"""The ``gmg`` command, run as a user runs it: a real process on a fresh data directory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

GMG = [sys.executable, "-m", "gmg.cli"]


def run_gmg(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GMG_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)  # each CLI test gets its own SQLite database
    return subprocess.run(
        [*GMG, *args], env=env, capture_output=True, text=True, timeout=120, check=check
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_loads_the_record_on_first_run_and_answers(tmp_path):
    port = free_port()
    env = {**os.environ, "GMG_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [*GMG, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/members?body=gmg&on=2018-06-01", timeout=5
                ) as response:
                    data = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert data["count"] == 22
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert "Global Migration Group" in response.read().decode()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/site/site.css", timeout=5
        ) as response:
            assert response.status == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "loaded the GMG record" in output
    assert (tmp_path / "data" / "gmg.sqlite3").exists()


def test_load_check_export_round(tmp_path):
    loaded = run_gmg(tmp_path, "load")
    assert "153 Output" in loaded.stdout
    again = run_gmg(tmp_path, "load", check=False)
    assert again.returncode == 2 and "--replace" in again.stderr
    checked = run_gmg(tmp_path, "check")
    assert "7 source conflict(s) kept side by side, 0 error(s)" in checked.stdout
    out = tmp_path / "record.json"
    run_gmg(tmp_path, "export", "--format", "json", "--out", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert len(exported["outputs"]) == 153
    # The export is itself a bundle: it loads back.
    reloaded = run_gmg(tmp_path, "load", str(out), "--replace")
    assert "153 Output" in reloaded.stdout
    csv_dir = tmp_path / "csv"
    run_gmg(tmp_path, "export", "--format", "csv", "--out", str(csv_dir))
    # A data package: descriptor, README and one CSV file per table under data/.
    assert (csv_dir / "datapackage.json").is_file() and (csv_dir / "README.md").is_file()
    assert (csv_dir / "data" / "outputs.csv").read_text(encoding="utf-8").count("\n") > 153


def test_load_reports_a_bad_bundle_and_keeps_the_record(tmp_path):
    run_gmg(tmp_path, "load")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: gmg-bundle/1\nbodies:\n- {key: x, name: X, founded: '2003-02-30'}\n",
        encoding="utf-8",
    )
    result = run_gmg(tmp_path, "load", str(bad), "--replace", check=False)
    assert result.returncode == 2
    assert (
        "nothing was loaded" in result.stderr and "'2003-02-30' is not a real date" in result.stderr
    )
    assert "7 source conflict(s)" in run_gmg(tmp_path, "check").stdout


def test_reindex(tmp_path):
    run_gmg(tmp_path, "load")
    assert "indexed 153 outputs" in run_gmg(tmp_path, "reindex").stdout


@pytest.mark.parametrize("args", [["load", "/no/such/file.yaml"], ["export", "--format", "pdf"]])
def test_bad_arguments_are_clear(tmp_path, args):
    result = run_gmg(tmp_path, *args, check=False)
    assert result.returncode == 2
    assert result.stderr.strip()


SAFE_PRODUCTION = {
    "GMG_ENV": "production",
    "GMG_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-key-value-",
    "GMG_ALLOWED_HOSTS": "gmg.example.org",
    "GMG_BASE_URL": "https://gmg.example.org",
    "GMG_EMAIL_HOST": "smtp.example.org",
}


def run_check_deploy(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GMG_DATA_DIR": str(tmp_path / "data"), **overrides}
    env = {k: v for k, v in env.items() if v != ""}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [*GMG, "check", "--deploy"], env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_a_safe_production_configuration(tmp_path):
    done = run_check_deploy(tmp_path, **SAFE_PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "passed every check" in done.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"GMG_ENV": "", "GMG_DEBUG": "1"}, "gmg.E001"),
        ({"GMG_BASE_URL": "http://gmg.example.org"}, "gmg.E004"),
        ({"GMG_EMAIL_HOST": ""}, "gmg.E005"),
        ({"GMG_HSTS_SECONDS": "0"}, "gmg.E007"),
        ({"GMG_SECRET_KEY": "short"}, "gmg.E003"),
        ({"GMG_PRIVATE_DIR": "set in the test"}, "gmg.E009"),
        ({"GMG_SSL_REDIRECT": "0"}, "security.W008"),
    ],
)
def test_check_deploy_fails_on_each_unsafe_setting(tmp_path, change, expected):
    if expected == "gmg.E009":
        change = {"GMG_PRIVATE_DIR": str(tmp_path / "data" / "static" / "private")}
    done = run_check_deploy(tmp_path, **{**SAFE_PRODUCTION, **change})
    assert done.returncode == 1
    assert expected in done.stderr


def test_invite_prints_a_link_for_the_first_secretariat(tmp_path):
    run_gmg(tmp_path, "load")
    done = run_gmg(
        tmp_path,
        "invite",
        "head@example.org",
        "--name",
        "Head of secretariat",
        "--role",
        "secretariat",
        "--no-mail",
    )
    link = done.stdout.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/accounts/invitation/")
    again = run_gmg(
        tmp_path, "invite", "x@example.org", "--name", "X", "--entity", "NOPE", check=False
    )
    assert again.returncode == 2 and "unknown entity 'NOPE'" in again.stderr
