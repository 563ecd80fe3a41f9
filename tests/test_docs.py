"""The docs cover every setting, CLI command and API endpoint (as Datasette's test_docs does)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_environment_variable_is_documented():
    code = (ROOT / "src/gmg/settings.py").read_text() + (ROOT / "src/gmg/cli.py").read_text()
    names = set(re.findall(r"os\.environ(?:\.get)?\(\s*\"([A-Z_]+)\"", code))
    names |= set(re.findall(r"os\.environ\[\"([A-Z_]+)\"\]", code))
    names -= {"DJANGO_SETTINGS_MODULE"}
    assert names >= {"GMG_DATA_DIR", "DATABASE_URL"}
    documented = set(re.findall(r"^### ([A-Z_]+)", read("configuration.md"), re.MULTILINE))
    assert names - documented == set()


def test_every_cli_command_is_documented():
    from gmg.cli import build_parser

    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    documented = set(re.findall(r"^## gmg (\w+)", read("cli.md"), re.MULTILINE))
    assert commands - documented == set()


def test_every_api_endpoint_is_documented():
    import json

    spec = json.loads(read("openapi.json"))
    endpoints = {
        f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
    }
    documented = set(
        re.findall(r"^### ((?:GET|POST|PUT|PATCH|DELETE) /api/\S+)", read("api.md"), re.MULTILINE)
    )
    assert endpoints - documented == set()
