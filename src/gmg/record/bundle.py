"""Reading and validating a record bundle (see docs/record-bundle.md).

A field whose sources disagree is written as a list of claims, ``[{value, source}]``.
``claims()`` turns either form into a list so the loader can keep every value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FORMAT = "gmg-bundle/1"
DEFAULT_BUNDLE = Path(__file__).resolve().parent / "gmg-record.yaml"


class BundleError(Exception):
    """The bundle is malformed; ``problems`` lists every problem found, by path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the bundle:\n" + "\n".join(problems))


@dataclass(frozen=True)
class Claim:
    value: Any
    source: int | None  # index into the record's sources, when the claim names one


def claims(node: dict[str, Any], name: str) -> list[Claim]:
    """The stated values of ``node[name]``: one plain value, or a list of claims."""
    raw = node.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, list) and raw and all(isinstance(c, dict) and "value" in c for c in raw):
        return [Claim(c["value"], c.get("source")) for c in raw]
    return [Claim(raw, None)]


def first(node: dict[str, Any], name: str, default: Any = None) -> Any:
    found = claims(node, name)
    return found[0].value if found else default


def read_bundle(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON bundle file; the format marker must match."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BundleError([f"{path}: cannot read: {exc.strerror}"]) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise BundleError(
            [f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}"]
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError([f"{path}: not a bundle (expected format: {FORMAT})"])
    return data


@dataclass
class Problems:
    """Collects validation problems so a bad bundle is reported whole, not one error at a time."""

    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise BundleError(self.items)
