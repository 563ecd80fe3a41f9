"""Browser tests: Debian's Chromium driven by Playwright against a real `gmg serve`.

The server is started the way a user starts it, on a fresh data directory, so the first run
loads the GMG record. Screenshots of the main pages are kept in artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GMG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The environment `gmg serve` runs in, for CLI commands against the same data (gmg invite).
SERVER_ENV: dict[str, str] = {}
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def base_url(tmp_path_factory):
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM} (required when CI=true)")
        pytest.skip(f"Chromium not found at {CHROMIUM}: browser tests skipped")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GMG_DATA_DIR": str(tmp_path_factory.mktemp("browser-data"))}
    env["GMG_BASE_URL"] = f"http://127.0.0.1:{port}"
    database = _fresh_postgres_database(os.environ.get("DATABASE_URL", ""))
    if database:
        env["DATABASE_URL"] = database
    else:
        env.pop("DATABASE_URL", None)
    log = open(tmp_path_factory.mktemp("logs") / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "gmg.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=5).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"gmg serve did not start; see {log.name}") from None
            time.sleep(0.3)
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()
    if database:
        _drop_postgres_database(database)


def _fresh_postgres_database(url: str) -> str:
    """On the PostgreSQL pass, serve from a new empty database, as a fresh install would."""
    if not url.startswith(("postgres://", "postgresql://")):
        return ""
    import psycopg

    name = f"gmg_browser_{os.getpid()}"
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(url: str) -> None:
    import psycopg

    admin, name = url.rsplit("/", 1)
    with psycopg.connect(
        os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1), autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def keep_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_problems(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA (and best-practice) violations on the page, plus contrast it
    could not settle: white links on a white page slipped through as "incomplete" once.
    SVG chart text is left to tests/reports/test_charts.py, which computes its contrast."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
            }
        },
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    unsettled = [
        f"{v['id']}: {[n['target'] for n in v['nodes'] if 'text' not in str(n['target'])][:5]}"
        for v in results.response["incomplete"]
        if v["id"] == "color-contrast" and any("text" not in str(n["target"]) for n in v["nodes"])
    ]
    return violations + unsettled


def gmg_cli(*args: str) -> str:
    """Run ``gmg`` against the browser tests' server data; return its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "gmg.cli", *args],
        env=SERVER_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout
