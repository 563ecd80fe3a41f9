"""The benchmark: search latency, page throughput, SQL queries, memory and index build time.

    make bench                       # 10k, 100k and 1M outputs (about 25 minutes here)
    BENCH_SIZES=10000 make bench     # a quick run

For each size it builds a fresh SQLite database with the GMG record plus synthetic outputs
(bench/corpus.py), and a PostgreSQL database for the sizes up to BENCH_PG_MAX. It then
measures, through the platform's own code:
- search latency p50/p95 over a fixed mix of 200 queries, facet counts included, per engine;
- index build time per engine (the real rebuild path, `gmg reindex`);
- SQL queries per page (Django's test client);
- the repository page's requests/s and p99 under wrk on loopback, side by side with a bare
  Django view returning the same bytes through the same gunicorn; peak RSS per worker.
The results go to docs/performance.md. Timings are medians of one run on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("BENCH_DIR", "/tmp/gmg-bench"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PYTHON = sys.executable


# -- inside a Django process -----------------------------------------------------------------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def populate(size: int) -> dict:
    """Load the GMG record, add synthetic outputs up to ``size``, build every index."""
    _django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from bench import corpus
    from gmg.accounts.services import Actor
    from gmg.record.bundle import DEFAULT_BUNDLE, read_bundle
    from gmg.record.loader import load_bundle
    from gmg.registry.models import Body, Entity
    from gmg.repository.models import Output, Process, Theme
    from gmg.workgroups.models import WorkingGroup

    call_command("migrate", verbosity=0)
    load_bundle(read_bundle(DEFAULT_BUNDLE), by=Actor.system("bench"), replace=True)
    synthetic = size - Output.objects.count()
    started = time.perf_counter()
    first_id = (Output.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rows = corpus.outputs(
        synthetic,
        entity_ids=list(
            Entity.objects.filter(memberships__body__key="gmg").values_list("pk", flat=True)
        ),
        group_ids=list(WorkingGroup.objects.values_list("pk", flat=True)),
        process_ids=list(Process.objects.values_list("pk", flat=True)),
        theme_ids=list(Theme.objects.values_list("pk", flat=True)),
        body_id=Body.objects.get(key="gmg").pk,
    )
    columns = [
        "id",
        "key",
        "body_id",
        "type",
        "subtype",
        "title",
        "description",
        "date",
        "date_start",
        "date_end",
        "location",
        "occasion",
        "working_group_id",
        "visibility",
        "created_at",
        "updated_at",
    ]
    insert_output = (
        f"INSERT INTO repository_output ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    batch: dict[str, list] = {"o": [], "e": [], "y": [], "d": [], "p": [], "t": []}

    def flush():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert_output, batch["o"])
            cursor.executemany(
                "INSERT INTO repository_outputentity (output_id, entity_id, role, position) "
                "VALUES (%s, %s, %s, %s)",
                batch["e"],
            )
            cursor.executemany(
                "INSERT INTO repository_outputyear (output_id, year) VALUES (%s, %s)", batch["y"]
            )
            cursor.executemany(
                'INSERT INTO repository_outputdate (output_id, text, start, "end") '
                "VALUES (%s, %s, %s, %s)",
                batch["d"],
            )
            cursor.executemany(
                "INSERT INTO repository_output_processes (output_id, process_id) VALUES (%s, %s)",
                batch["p"],
            )
            cursor.executemany(
                "INSERT INTO repository_output_themes (output_id, theme_id) VALUES (%s, %s)",
                batch["t"],
            )
        for rows_ in batch.values():
            rows_.clear()

    for offset, (row, links, years, dates, processes, themes) in enumerate(rows):
        pk = first_id + offset
        batch["o"].append([pk] + [row[c] for c in columns[1:]])
        batch["e"].extend((pk, e, role, i) for i, (e, role) in enumerate(links))
        batch["y"].extend((pk, y) for y in years)
        batch["d"].extend((pk, *d) for d in dates)
        batch["p"].extend((pk, p) for p in processes)
        batch["t"].extend((pk, t) for t in themes)
        if len(batch["o"]) >= 20_000:
            flush()
    flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('repository_output', 'id'), "
                "(SELECT max(id) FROM repository_output))"
            )
        cursor.execute("ANALYZE")  # as `gmg load` does
    inserted = time.perf_counter() - started
    return {"size": Output.objects.count(), "insert_seconds": round(inserted, 1)}


def build(engine: str) -> dict:
    _django()
    from django.conf import settings

    from gmg.repository import search

    settings.GMG_SEARCH_ENGINE = engine
    started = time.perf_counter()
    count = search.rebuild_index()
    return {
        "engine": engine,
        "indexed": count,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def latency(engine: str, queries: int) -> dict:
    _django()
    from django.conf import settings

    from bench import corpus
    from gmg.core.viewer import ANONYMOUS
    from gmg.repository.search import SearchQuery
    from gmg.repository.selectors import search_outputs

    settings.GMG_SEARCH_ENGINE = engine
    mix = corpus.query_mix(queries)
    for text in mix[:5]:  # warm caches and the index reader
        search_outputs(ANONYMOUS, SearchQuery(text=text), with_facets=True)
    timings, bare = [], []
    matched = []
    for text in mix:
        started = time.perf_counter()
        page = search_outputs(ANONYMOUS, SearchQuery(text=text), with_facets=True)
        timings.append((time.perf_counter() - started) * 1000)
        matched.append(page.total)
        started = time.perf_counter()
        search_outputs(ANONYMOUS, SearchQuery(text=text), with_facets=False)
        bare.append((time.perf_counter() - started) * 1000)
    return {
        "engine": engine,
        "queries": len(mix),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(statistics.quantiles(timings, n=20)[18], 1),
        "p95_no_facets_ms": round(statistics.quantiles(bare, n=20)[18], 1),
        "median_matches": int(statistics.median(matched)),
    }


def queries_per_page() -> dict:
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gmg.repository.models import Output

    sample = Output.objects.order_by("-pk").values_list("key", flat=True).first()
    pages = [
        "/",
        "/outputs/",
        "/outputs/?q=migration",
        "/outputs/?q=migration&type=event&year=2016",
        f"/outputs/{sample}/",
        "/members/",
        "/members/iom/",
        "/governance/",
        "/working-groups/wg-data-research/",
        "/events/",
        "/api/outputs?q=migration&facets=true",
    ]
    from django.conf import settings

    settings.GMG_PAGE_CACHE_SECONDS = 0  # count the work of a page, not a cache hit
    client = Client()
    for page in pages:  # warm per-process caches (content types), as a running server has
        client.get(page)
    counts = {}
    for page in pages:
        with CaptureQueriesContext(connection) as captured:
            status = client.get(page).status_code
        counts[page] = (status, len(captured))
    return counts


# -- the orchestrator ------------------------------------------------------------------------


def in_django(command: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [PYTHON, __file__, command, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(f"{command} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, seconds: int, script: Path) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    value, unit = float(p99.group(1)), p99.group(2)
    p99_ms = value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": round(rate, 1),
        "p99_ms": round(p99_ms, 1),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def worker_rss_mb(master_pid: int) -> float:
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    peak = 0
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peak = max(peak, int(match.group(1)))
    return round(peak / 1024, 1)


def http_load(env: dict, seconds: int) -> dict:
    """The page uncached (every request does the work), then cached, then the bare view."""
    uncached = _http_load({**env, "GMG_PAGE_CACHE_SECONDS": "0"}, seconds)
    cached = _http_load(env, seconds)
    return {
        "page_uncached": uncached["page"],
        "page": cached["page"],
        "bare": cached["bare"],
        "page_bytes": cached["page_bytes"],
    }


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    """The platform as production serves it: gunicorn, 2 sync workers, on loopback."""
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "bench.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "-k",
            "sync",
            "--log-level",
            "warning",
        ],
        env={**env, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"},
        cwd=ROOT,
    )


def wait_for(url: str, attempts: int = 200) -> bytes:
    for _ in range(attempts):
        try:
            return urllib.request.urlopen(url, timeout=10).read()
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def _http_load(env: dict, seconds: int) -> dict:
    from bench import corpus

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mix = corpus.query_mix(200)
    paths = ["/outputs/?q=" + q.replace(" ", "+") for q in mix]
    script = WORK / "paths.lua"
    script.write_text(
        "local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
        "local i = 0\nrequest = function()\n  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\nend\n"
    )
    bare_script = WORK / "bare.lua"
    bare_script.write_text('request = function() return wrk.format(nil, "/_bench/bare") end\n')
    # The bare view returns the bytes of a real repository page.
    bare_page = ROOT / "bench" / ".bare-page.html"
    server = start_gunicorn(env, port)
    try:
        body = wait_for(base + paths[0])
        bare_page.write_bytes(body)
    finally:
        server.terminate()
        server.wait()
    server = start_gunicorn(env, port)
    try:
        wait_for(base + "/_bench/bare")
        for p in paths:  # warm each worker's index reader, and the page cache when it is on
            urllib.request.urlopen(base + p, timeout=60).read()
        page = wrk(base, seconds, script)
        bare = wrk(base, seconds, bare_script)
        page["peak_worker_rss_mb"] = worker_rss_mb(server.pid)
        return {"page": page, "bare": bare, "page_bytes": len(body)}
    finally:
        server.terminate()
        server.wait()
        bare_page.unlink(missing_ok=True)


def pg_database(size: int) -> str:
    import psycopg

    name = f"gmg_bench_{size}"
    with psycopg.connect(
        PG_URL.replace("postgres://", "postgresql://", 1), autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def run_all(sizes: list[int], pg_max: int, seconds: int, queries: int) -> dict:
    results: dict = {"sizes": {}, "machine": {"cores": os.cpu_count()}}
    previous = WORK / "results.json"
    if os.environ.get("BENCH_KEEP") and previous.exists():
        results = json.loads(previous.read_text())  # add these sizes to an earlier run's
    for size in sizes:
        print(f"== {size:,} outputs", flush=True)
        data = WORK / f"sqlite-{size}"
        shutil.rmtree(data, ignore_errors=True)
        env = {
            **os.environ,
            "GMG_DATA_DIR": str(data),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}",
        }
        env.pop("DATABASE_URL", None)
        entry: dict = {"populate": in_django("populate", env, str(size)), "engines": {}}
        print("   populated", entry["populate"], flush=True)
        for engine in ("tantivy", "sqlite"):
            # The non-default engines take seconds a query at 1M: fewer queries keep the run short.
            count = queries if engine == "tantivy" or size < 1_000_000 else min(queries, 40)
            built = in_django("build", env, engine)
            timed = in_django("latency", env, engine, str(count))
            entry["engines"][engine] = {**built, **timed}
            print("  ", engine, entry["engines"][engine], flush=True)
        env_default = {**env, "GMG_SEARCH_ENGINE": "tantivy"}
        entry["queries_per_page"] = in_django("queries", env_default)
        entry["http"] = http_load(env_default, seconds)
        print("   http", entry["http"], flush=True)
        if size <= pg_max:
            pg_env = {**env, "DATABASE_URL": pg_database(size)}
            entry["populate_pg"] = in_django("populate", pg_env, str(size))
            built = in_django("build", pg_env, "postgres")
            timed = in_django("latency", pg_env, "postgres", str(queries))
            entry["engines"]["postgres"] = {**built, **timed}
            print("   postgres", entry["engines"]["postgres"], flush=True)
        results["sizes"][str(size)] = entry
        (WORK / "results.json").write_text(json.dumps(results, indent=1))
    return results


def write_markdown(results: dict) -> str:
    lines = [
        "## Measured",
        "",
        f"One run of `make bench` on this {results['machine']['cores']}-core machine "
        "(numbers from `bench/run.py`; medians and percentiles of that run).",
        "",
        "### Search latency (200 queries drawn by corpus frequency, facet counts included)",
        "",
        "| outputs | engine | p50 ms | p95 ms | p95 ms without facets | median matches | index build s |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, entry in results["sizes"].items():
        for engine, e in entry["engines"].items():
            lines.append(
                f"| {int(size):,} | {engine} | {e['p50_ms']} | {e['p95_ms']} | "
                f"{e['p95_no_facets_ms']} | {e['median_matches']:,} | {e['build_seconds']} |"
            )
    lines += [
        "",
        "### The repository page under load (wrk, 2 threads, 8 connections, gunicorn 2 sync workers)",
        "",
        "The 200 search URLs of the query mix in turn; `uncached` with `GMG_PAGE_CACHE_SECONDS=0`,",
        "`cached` with the page cache on (after one warm-up pass); `bare` is a Django view returning",
        "the bytes of a repository page through the same middleware and gunicorn.",
        "",
        "| outputs | uncached req/s | uncached p99 ms | cached req/s | cached p99 ms | bare req/s | bare p99 ms | uncached / bare | cached / bare | peak RSS per worker MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, entry in results["sizes"].items():
        h = entry["http"]
        bare = h["bare"]["rps"] or 1
        lines.append(
            f"| {int(size):,} | {h['page_uncached']['rps']} | {h['page_uncached']['p99_ms']} | "
            f"{h['page']['rps']} | {h['page']['p99_ms']} | {h['bare']['rps']} | "
            f"{h['bare']['p99_ms']} | {h['page_uncached']['rps'] / bare:.2f} | "
            f"{h['page']['rps'] / bare:.2f} | "
            f"{max(h['page']['peak_worker_rss_mb'], h['page_uncached']['peak_worker_rss_mb'])} |"
        )
    lines += [
        "",
        "### SQL queries per page",
        "",
        "| page | " + " | ".join(f"{int(s):,}" for s in results["sizes"]) + " |",
        "|---|" + "---:|" * len(results["sizes"]),
    ]

    def label(path: str) -> str:  # the sample output differs with the size
        return re.sub(r"^/outputs/[^/?]+/$", "/outputs/KEY/", path)

    per_size = {
        size: {label(path): counted[1] for path, counted in entry["queries_per_page"].items()}
        for size, entry in results["sizes"].items()
    }
    for page in next(iter(per_size.values())):
        cells = [str(per_size[s].get(page, "")) for s in per_size]
        lines.append(f"| `{page}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "command",
        choices=["all", "populate", "build", "latency", "queries", "markdown", "http"],
    )
    parser.add_argument("args", nargs="*")
    options = parser.parse_args()
    if options.command == "populate":
        print(json.dumps(populate(int(options.args[0]))))
    elif options.command == "build":
        print(json.dumps(build(options.args[0])))
    elif options.command == "latency":
        print(json.dumps(latency(options.args[0], int(options.args[1]))))
    elif options.command == "queries" and not options.args:
        print(json.dumps(queries_per_page()))
    else:
        WORK.mkdir(parents=True, exist_ok=True)
        if options.command == "all":
            sizes = [
                int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")
            ]
            results = run_all(
                sizes,
                pg_max=int(os.environ.get("BENCH_PG_MAX", "100000")),
                seconds=int(os.environ.get("BENCH_SECONDS", "15")),
                queries=int(os.environ.get("BENCH_QUERIES", "200")),
            )
        else:
            results = json.loads((WORK / "results.json").read_text())
        if options.command == "queries":
            for size in options.args:
                env = {
                    **os.environ,
                    "GMG_DATA_DIR": str(WORK / f"sqlite-{size}"),
                    "DJANGO_SETTINGS_MODULE": "bench.settings",
                    "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}",
                    "GMG_SEARCH_ENGINE": "tantivy",
                }
                env.pop("DATABASE_URL", None)
                results["sizes"][size]["queries_per_page"] = in_django("queries", env)
            (WORK / "results.json").write_text(json.dumps(results, indent=1))
        if options.command == "http":
            # Re-measure only the pages, on the data an earlier `all` left in BENCH_DIR.
            for size in options.args:
                env = {
                    **os.environ,
                    "GMG_DATA_DIR": str(WORK / f"sqlite-{size}"),
                    "DJANGO_SETTINGS_MODULE": "bench.settings",
                    "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}",
                    "GMG_SEARCH_ENGINE": "tantivy",
                }
                env.pop("DATABASE_URL", None)
                results["sizes"][size]["http"] = http_load(
                    env, int(os.environ.get("BENCH_SECONDS", "15"))
                )
                print(size, results["sizes"][size]["http"], flush=True)
            (WORK / "results.json").write_text(json.dumps(results, indent=1))
        table = write_markdown(results)
        doc = ROOT / "docs" / "performance.md"
        text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n\n## Measured\n"
        head = text.split("## Measured")[0]
        doc.write_text(head + table, encoding="utf-8")
        print(table)


if __name__ == "__main__":
    main()
