"""A synthetic repository of realistic outputs, for the benchmark only.

Words are drawn by their frequency in the GMG final report (stop words left out), so common
words behave as they do in a migration repository: "migration" matches nearly everything.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "src/gmg/record/seeds/gmg-final-report-2006-2018.txt"
STOP = set(
    "the of and to in on for a an by with at as its is was were be or from that this which "
    "their these those it are has have been all also other such into more than including "
    "through between within who whom will can may would both each two one".split()
)
TYPES = [
    ("joint_statement", 24),
    ("event", 26),
    ("publication", 20),
    ("contribution", 10),
    ("issue_brief", 6),
    ("briefing_note", 3),
    ("chair_statement", 3),
    ("message", 2),
    ("concept_note", 4),
    ("press_release", 1),
    ("intervention", 1),
]
ROLES = ["lead", "co_lead", "prepared_by", "partner", "co_organiser"]


def vocabulary() -> tuple[list[str], list[int]]:
    words = re.findall(r"[a-z][a-z\-]+", SEED.read_text(encoding="utf-8").lower())
    counts = Counter(w for w in words if w not in STOP and len(w) > 2)
    ranked = counts.most_common()
    return [w for w, _ in ranked], [n for _, n in ranked]


def query_mix(count: int = 200, seed: int = 7) -> list[str]:
    """Queries of one or two words, drawn by corpus frequency (fixed seed)."""
    rng = random.Random(seed)
    words, weights = vocabulary()
    queries = []
    for _ in range(count):
        n = 1 if rng.random() < 0.7 else 2
        queries.append(" ".join(rng.choices(words, weights, k=n)))
    return queries


def outputs(
    n: int,
    *,
    entity_ids: list[int],
    group_ids: list[int],
    process_ids: list[int],
    theme_ids: list[int],
    body_id: int,
    seed: int = 1,
):
    """Yield (row, entity_links, years, dates, process_ids, theme_ids) per synthetic output."""
    rng = random.Random(seed)
    words, weights = vocabulary()
    type_names = [t for t, _ in TYPES]
    type_weights = [w for _, w in TYPES]
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        title = " ".join(rng.choices(words, weights, k=rng.randint(5, 12))).capitalize()
        summary = " ".join(rng.choices(words, weights, k=rng.randint(12, 30)))
        year = rng.randint(2006, 2018)
        day = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        precision = rng.random()
        date_text = str(year) if precision < 0.5 else day.isoformat()
        start = dt.date(year, 1, 1) if precision < 0.5 else day
        end = dt.date(year, 12, 31) if precision < 0.5 else day
        kind = rng.choices(type_names, type_weights)[0]
        row = {
            "key": f"syn-{i:07d}",
            "body_id": body_id,
            "type": kind,
            "subtype": "",
            "title": title,
            "description": summary,
            "date": date_text,
            "date_start": start,
            "date_end": end,
            "location": "",
            "occasion": "",
            "working_group_id": rng.choice(group_ids) if rng.random() < 0.2 else None,
            "visibility": "public",
            "created_at": now,
            "updated_at": now,
        }
        links = [(e, rng.choice(ROLES)) for e in rng.sample(entity_ids, rng.randint(0, 3))]
        processes = rng.sample(process_ids, rng.randint(0, 2))
        themes = rng.sample(theme_ids, rng.randint(0, 2))
        yield row, links, [year], [(date_text, start, end)], processes, themes
