"""Merge per-section extraction files into one list of outputs, uniting records by key.

Used once to assemble src/gmg/record/gmg-record.yaml from parallel extractions; kept so the
assembly can be repeated. Sources are united; a field whose values differ between places
becomes a list of claims ``[{value, source}]`` so the disagreement stays visible.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

SCALARS = ["type", "date", "subtype", "location", "occasion", "working_group", "visibility"]
LISTS = ["entities", "processes", "themes", "related", "title_variants", "date_list"]


def as_claims(value, source_index):
    if isinstance(value, list) and value and isinstance(value[0], dict) and "value" in value[0]:
        return value
    return [{"value": value, "source": source_index}]


def merge(into: dict, other: dict) -> None:
    offset = len(into.get("sources", []))

    def shift(claims):
        return [{"value": c["value"], "source": c["source"] + offset} for c in claims]

    into["sources"] = into.get("sources", []) + other.get("sources", [])
    if other.get("title") and other["title"] != into.get("title"):
        variants = into.setdefault("title_variants", [])
        if other["title"] not in variants:
            variants.append(other["title"])
    for name in SCALARS:
        mine, theirs = into.get(name), other.get(name)
        if theirs in (None, "", []):
            continue
        if mine in (None, "", []):
            into[name] = as_claims(theirs, offset) if isinstance(theirs, list) else theirs
            if isinstance(theirs, list):
                into[name] = shift(as_claims(theirs, 0))
            continue
        mine_claims = as_claims(mine, 0)
        theirs_claims = shift(as_claims(theirs, 0))
        values = {str(c["value"]) for c in mine_claims}
        new = [c for c in theirs_claims if str(c["value"]) not in values]
        if new:
            if name in ("location", "occasion", "subtype"):
                print(f"note: {into['key']}: {name} differs: {mine!r} / {theirs!r} (kept first)")
                continue
            into[name] = mine_claims + new
    for name in LISTS:
        merged = list(into.get(name) or [])
        for item in other.get(name) or []:
            if item not in merged:
                merged.append(item)
        if merged:
            into[name] = merged
    if other.get("description") and other["description"] != into.get("description"):
        into["description"] = " ".join(
            filter(None, [into.get("description"), other["description"]])
        )


def main(parts: list[str], out: str) -> None:
    outputs: dict[str, dict] = {}
    meetings, entities = [], []
    for part in parts:
        data = yaml.safe_load(Path(part).read_text(encoding="utf-8"))
        entities += data.get("entities") or []
        meetings += data.get("meetings") or []
        for record in data.get("outputs") or []:
            if record["key"] in outputs:
                merge(outputs[record["key"]], record)
            else:
                outputs[record["key"]] = record
    # Make `related` symmetric: the model stores it both ways anyway.
    for key, record in outputs.items():
        for other in record.get("related") or []:
            if other not in outputs:
                print(f"warning: {key}: related {other!r} does not exist")
                continue
            back = outputs[other].setdefault("related", [])
            if key not in back:
                back.append(key)
    Path(out).write_text(
        yaml.safe_dump(
            {"entities": entities, "meetings": meetings, "outputs": list(outputs.values())},
            allow_unicode=True,
            sort_keys=False,
            width=110,
        ),
        encoding="utf-8",
    )
    print(f"{len(outputs)} outputs, {len(meetings)} meetings, {len(entities)} extra entities")


if __name__ == "__main__":
    main(sys.argv[1:-1], sys.argv[-1])
