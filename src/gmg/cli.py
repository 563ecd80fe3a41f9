"""The ``gmg`` command: serve, load, export, check, reindex, and Django's own commands.

Every subcommand that writes goes through the same services as the web and the API.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmg.settings")
    import django

    django.setup()


def _cli_actor():
    from gmg.accounts.services import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor.system(f"cli:{user}")


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_load(args: argparse.Namespace) -> int:
    from gmg.record.bundle import DEFAULT_BUNDLE, BundleError
    from gmg.record.loader import load_bundle
    from gmg.record.opendata import read_record

    _migrate()
    path = Path(args.bundle) if args.bundle else DEFAULT_BUNDLE
    try:
        # A bundle file (YAML/JSON), or a data package: zip, directory, datapackage.json.
        report = load_bundle(read_record(path), by=_cli_actor(), replace=args.replace)
    except BundleError as exc:
        print(f"gmg load: {path}: nothing was loaded.", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{n} {name}" for name, n in sorted(report.counts.items()))
    print(f"loaded {path.name} (version {report.version}): {counts}")
    return 0


def load_default_if_empty() -> bool:
    from django.db import IntegrityError

    from gmg.record.bundle import DEFAULT_BUNDLE, BundleError, read_bundle
    from gmg.record.loader import load_bundle, record_is_empty

    if not record_is_empty():
        return False
    try:
        load_bundle(read_bundle(DEFAULT_BUNDLE), by=_cli_actor())
    except (IntegrityError, BundleError):
        # Another server starting on the same empty database loaded it first.
        if record_is_empty():
            raise
        return False
    return True


def cmd_export(args: argparse.Namespace) -> int:
    import yaml

    from gmg.record import opendata

    bundle = opendata.public_bundle()  # what an anonymous visitor may see
    out = Path(args.out) if args.out else None
    if args.format == "zip":
        data = opendata.zip_bytes(bundle)
        if out is None:
            sys.stdout.buffer.write(data)
            return 0
        out.write_bytes(data)
        print(f"wrote {out} ({len(data)} bytes, {len(opendata.TABLES)} tables)")
        return 0
    if args.format == "csv" or (args.format == "json" and out and out.suffix.lower() != ".json"):
        if out is None:
            sys.stdout.write(opendata.csv_tables(bundle)["outputs"])
            return 0
        written = opendata.write_package(bundle, out, args.format)
        print(f"wrote a data package to {out} ({len(written)} files)")
        return 0
    if args.format == "yaml":
        text = yaml.safe_dump(bundle, allow_unicode=True, sort_keys=False, width=110)
    else:
        text = json.dumps(bundle, ensure_ascii=False, indent=1)
    if out is None:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out} ({len(bundle['outputs'])} outputs)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    if args.deploy:
        return _check_deploy()
    from gmg.record.check import check_record

    findings = check_record()
    for finding in findings:
        print(finding)
    errors = [f for f in findings if f.kind == "error"]
    conflicts = len(findings) - len(errors)
    print(f"{conflicts} source conflict(s) kept side by side, {len(errors)} error(s)")
    return 1 if errors else 0


def _check_deploy() -> int:
    """Django's deployment checks and ours (gmg.core.checks); any warning fails."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=True, fail_level="WARNING")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        print("unsafe for production: fix the problems above", file=sys.stderr)
        return 1
    print("the production configuration passed every check")
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    """Invite someone; the first secretariat account is made this way."""
    from django.core.exceptions import ValidationError

    from gmg.accounts.services import RoleSpec, invite
    from gmg.registry.models import Entity

    entity = None
    if args.entity:
        entity = Entity.objects.filter(acronym=args.entity).first()
        if entity is None:
            print(f"gmg invite: unknown entity {args.entity!r}", file=sys.stderr)
            return 2
    roles = [RoleSpec(r) for r in args.role or []]
    roles += [RoleSpec("working_group_member", g) for g in args.working_group or []]
    try:
        invitation, link = invite(
            email=args.email,
            name=args.name,
            entity_id=entity.pk if entity else None,
            roles=roles,
            by=_cli_actor(),
            send=not args.no_mail,
        )
    except ValidationError as exc:
        for message in exc.messages:
            print(f"gmg invite: {message}", file=sys.stderr)
        return 2
    print(f"invited {invitation.email} until {invitation.expires_at:%Y-%m-%d %H:%M} UTC")
    print(link)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from gmg.repository.search import get_engine, rebuild_index

    count = rebuild_index()
    print(f"indexed {count} outputs with {get_engine().name}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    workers = args.workers or os.environ.get("GMG_WORKERS", "2")
    try:
        workers = int(workers)
        if workers < 1:
            raise ValueError
    except ValueError:
        print(
            f"gmg serve: workers must be a whole number of at least 1, not {workers!r}",
            file=sys.stderr,
        )
        return 2
    _migrate()
    if load_default_if_empty():
        print("loaded the GMG record into an empty database")
    from gmg.repository.search import ensure_index

    if ensure_index():
        print("rebuilt the search index, which was missing or out of date")
    # Warm Django's content-type cache before gunicorn forks, so no worker's first pages
    # pay for it (source citations are generic relations).
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.get_for_models(*apps.get_models())
    if not settings.WHITENOISE_USE_FINDERS:
        call_command("collectstatic", interactive=False, verbosity=0)
    from gunicorn.app.base import BaseApplication

    from gmg.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "sync")
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("timeout", 60)
            # Each worker ticks: closes rounds at their deadline and sends clearance mail.
            self.cfg.set("post_worker_init", _start_scheduler)

        def load(self):
            return application

    print(f"serving on http://{args.host}:{args.port}/ (API at /api/, docs at /api/docs)")
    Server().run()
    return 0


def _start_scheduler(worker) -> None:
    from gmg.clearance.scheduler import start

    start()


def cmd_tick(args: argparse.Namespace) -> int:
    """Record rounds whose deadline passed, queue reminders, send the clearance mail due."""
    from gmg.clearance.notifications import tick

    done = tick()
    print(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in done.items()))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the final or an annual report, as HTML or PDF, generated from the record."""
    import time

    from gmg.reports.content import ReportError
    from gmg.reports.produce import ReportRequest, produce

    started = time.perf_counter()
    try:
        request = ReportRequest(
            kind=args.kind, body=args.body, year=args.year, members_variant=args.members
        )
        content = produce(request, args.format, base_url=args.base_url or "")
    except ReportError as exc:
        print(f"gmg report: {exc}", file=sys.stderr)
        return 2
    if args.out in (None, "-"):
        sys.stdout.buffer.write(content)
        return 0
    out = Path(args.out)
    if out.is_dir():
        out = out / f"{request.file_name}.{args.format}"
    out.write_bytes(content)
    pages = ""
    if args.format == "pdf":
        from io import BytesIO

        from pypdf import PdfReader

        pages = f", {len(PdfReader(BytesIO(content)).pages)} pages"
    seconds = time.perf_counter() - started
    print(f"wrote {out} ({len(content) // 1024} KiB{pages}, {seconds:.1f} s)")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gmg manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gmg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, load the GMG record if empty, and serve")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--workers", type=int, help="gunicorn sync workers (default: GMG_WORKERS or 2)"
    )
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(func=cmd_serve)

    load = sub.add_parser("load", help="load a record bundle (default: the shipped GMG record)")
    load.add_argument(
        "bundle",
        nargs="?",
        help="a .yaml or .json bundle, or a data package: .zip, directory or datapackage.json",
    )
    load.add_argument("--replace", action="store_true", help="replace the existing record")
    load.set_defaults(func=cmd_load)

    export = sub.add_parser("export", help="export the public record")
    export.add_argument("--format", choices=["json", "yaml", "csv", "zip"], default="json")
    export.add_argument(
        "--out",
        help="a file (yaml; json ending in .json; zip) or a directory for a data package "
        "(csv; json); default stdout",
    )
    export.set_defaults(func=cmd_export)

    check = sub.add_parser("check", help="validate the record; list source conflicts and errors")
    check.add_argument(
        "--deploy", action="store_true", help="instead, check the production configuration"
    )
    check.set_defaults(func=cmd_check)

    invite_cmd = sub.add_parser(
        "invite", help="invite someone to the members' area (the first secretariat, too)"
    )
    invite_cmd.add_argument("email")
    invite_cmd.add_argument("--name", required=True)
    invite_cmd.add_argument("--entity", help="entity acronym, e.g. IOM")
    invite_cmd.add_argument(
        "--role",
        action="append",
        choices=["secretariat", "principal", "focal_point"],
        help="repeatable",
    )
    invite_cmd.add_argument("--working-group", action="append", help="a group key; repeatable")
    invite_cmd.add_argument("--no-mail", action="store_true", help="only print the link")
    invite_cmd.set_defaults(func=cmd_invite)

    reindex = sub.add_parser("reindex", help="rebuild the search index from the database")
    reindex.set_defaults(func=cmd_reindex)

    tick = sub.add_parser(
        "tick", help="close rounds whose deadline passed and send the clearance mail due"
    )
    tick.set_defaults(func=cmd_tick)

    report = sub.add_parser("report", help="write the final or an annual report (HTML or PDF)")
    report.add_argument("kind", choices=["final", "annual"])
    report.add_argument("--body", default="gmg", help="the body's key (default: gmg)")
    report.add_argument("--year", type=int, help="the year of an annual report")
    report.add_argument("--format", choices=["html", "pdf"], default="pdf")
    report.add_argument("--out", help="a file or a directory; default: stdout")
    report.add_argument(
        "--members",
        action="store_true",
        help="the members-only variant, with internal items (for the secretariat)",
    )
    report.add_argument("--base-url", help="the site's address, to link items to their pages")
    report.set_defaults(func=cmd_report)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_django()
    if args.command not in ("manage", "serve", "load") and not getattr(args, "deploy", False):
        _migrate()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
