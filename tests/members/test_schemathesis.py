"""Schemathesis over the API's own OpenAPI document, anonymous and with tokens.

The document is fetched from the WSGI application (what clients get at /api/openapi.json)
and every operation is exercised in-process, through the whole middleware stack, with
generated requests:

- fuzzed: valid requests (positive) and requests the schema forbids (negative);
- known: valid requests naming records that exist (path parameters), so that the 200
  answers of details, updates and deletions are checked too, not only the 404s;
- edge values: path and query parameters set to values the schema allows that are classic
  trouble, tried on every run rather than only when a random draw reaches them: integers
  with no maximum (offsets, pages, ids) at 2**63, the first value past a 64-bit integer,
  and free strings holding a NUL character (which PostgreSQL refuses in text).

Each answer must not be a server error and must match the document: status code, content
type, headers and body. Callers: nobody, the secretariat (a token with every scope, so the
writes run with full rights), a focal point (every scope, a focal point's rights) and a
revoked token (refused everywhere, with a declared 401). Each case runs in a savepoint
rolled back afterwards, so every case meets the record as loaded (and PostgreSQL recovers
from a failed statement).

Failures are collected (not raised at the first one, nor shrunk) and listed together at the
end, one per operation and kind of failure, each with the request that reproduces it and
the server's exception behind a 500.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gmg.accounts.services import Actor

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Examples per operation and generation mode; the file runs in a few minutes on SQLite.
MAX_EXAMPLES = {"read": 20, "write": 12, "known": 6, "edge": 2}
HYPOTHESIS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # failures are collected, never shrunk
    suppress_health_check=list(HealthCheck),
)
BEYOND_INT64 = 2**63
WITH_NUL = "nul\x00byte"
# Operations left out, each with why. Keep this narrow; none so far.
EXCLUDED: dict[str, str] = {}

# Cases per caller, reported at the end of the module.
CASES_RUN: dict[str, int] = {}


@dataclass
class Run:
    mode: str
    cases: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    unsatisfiable: list[str] = field(default_factory=list)
    # (operation, failure titles, server exception and place) -> the first report
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)


def announce(config, line: str) -> None:
    """Write ``line`` to the terminal even while output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    yield
    if CASES_RUN:
        counts = ", ".join(f"{mode}={n}" for mode, n in CASES_RUN.items())
        announce(request.config, f"schemathesis cases run: {counts}")


# -- running requests in-process -------------------------------------------------------------

# The exceptions behind a 500 of the current case (the page itself says nothing):
# (kind and place, which tell causes apart; the message).
raised: list[tuple[str, str]] = []


def remember_exception(sender, request=None, **kwargs) -> None:
    kind, value, tb = sys.exc_info()
    if kind is None:
        return
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/gmg/" in f.filename]
    where = (ours or frames or [None])[-1]
    place = f" at {where.filename.split('/src/')[-1]}:{where.lineno}" if where else ""
    raised.append((f"{kind.__name__}{place}", f"{kind.__name__}: {value}{place}"))


def cause() -> tuple[str, str]:
    """What tells this failure's cause apart, and the text of the exceptions."""
    return (
        " / ".join(key for key, _ in raised),
        "".join(f"\nServer exception: {text}" for _, text in raised),
    )


@contextlib.contextmanager
def in_process() -> Iterator[None]:
    """Requests through the real WSGI handler, inside the test's transaction.

    The handler closes "old" connections around each request; inside the test's transaction
    that would drop the connection (PostgreSQL). Django's test client disconnects the same
    handler. Thousands of 4xx answers are expected: only errors are logged.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(remember_exception)
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security.csrf")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        got_request_exception.disconnect(remember_exception)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema():
    from gmg.wsgi import application

    # Reports show the inputs as sent (the tokens are the test's): no "[Filtered]" values.
    config = schemathesis.Config.from_dict({"output": {"sanitization": {"enabled": False}}})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=config)


def run_strategy(run: Run, operation, strategy, headers: dict[str, str], examples: int) -> None:
    label = operation.label

    @hypothesis_settings(max_examples=examples, **HYPOTHESIS)
    @given(case=strategy)
    def each(case) -> None:
        run.cases += 1
        run.by_operation[label] = run.by_operation.get(label, 0) + 1
        savepoint = transaction.savepoint()
        raised.clear()
        try:
            response = case.call(headers=headers)
            run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                titles = " + ".join(sorted({failure.title for failure in group.exceptions}))
                where, exceptions = cause()
                run.failures.setdefault((label, titles, where), str(group) + exceptions)
            except AssertionError as error:  # a single failure, outside a group
                title = str(error).splitlines()[0] if str(error) else repr(error)
                where, exceptions = cause()
                run.failures.setdefault((label, title, where), str(error) + exceptions)
        finally:
            transaction.savepoint_rollback(savepoint)

    try:
        each()
    except Unsatisfiable:
        # Nothing to negate (no parameters, no body): negative mode has no case to make.
        run.unsatisfiable.append(label)


# -- what to send ----------------------------------------------------------------------------


@pytest.fixture
def shared_document(people):
    """A document shared with the GMG's members, so that the document operations meet one."""
    from gmg.registry.models import Body
    from gmg.repository.models import Document
    from gmg.repository.services import share_document

    member = people["unicef"]
    document = Document(
        title="Paper for the members",
        text="text",
        body=Body.objects.get(key="gmg"),
        visibility="body",
        uploaded_by=member.user,
    )
    return share_document(document, viewer=member.viewer(), by=SYSTEM)


def known_path_parameters(people, document) -> dict[str, dict[str, object]]:
    """For each path template, parameters naming records that exist."""
    from gmg.governance.models import ChairTerm, Meeting
    from gmg.registry.models import Body, Entity, Membership
    from gmg.repository.models import Output
    from gmg.workgroups.models import WorkingGroup

    first = lambda model, name: model.objects.values_list(name, flat=True).first()  # noqa: E731
    found = {
        "/api/bodies/{key}": {"key": "gmg"},
        "/api/entities/{acronym}": {"acronym": "UNICEF"},
        "/api/memberships/{membership_id}": {"membership_id": first(Membership, "pk")},
        "/api/meetings/{key}": {"key": first(Meeting, "key")},
        "/api/chair-terms/{key}": {"key": first(ChairTerm, "key")},
        "/api/working-groups/{key}": {"key": first(WorkingGroup, "key")},
        "/api/outputs/{key}": {"key": first(Output, "key")},
        "/api/documents/{uid}": {"uid": str(document.uid)},
        "/api/people/{email}/roles": {"email": people["unicef"].email},
    }
    assert Body.objects.filter(key="gmg").exists()
    assert Entity.objects.filter(acronym="UNICEF").exists()
    assert all(None not in values.values() for values in found.values()), found
    return found


def edge_values(operation) -> Iterator[tuple[str, str, object]]:
    """(location, name, value): values the schema allows that are classic trouble.

    - an integer with no maximum (offsets, pages, ids): 2**63, past a 64-bit integer;
    - a free string (no enum, pattern or format): one holding a NUL character, which
      PostgreSQL refuses in text (SQLite takes it).
    """
    for parameter in operation.definition.raw.get("parameters", []):
        if parameter["in"] not in ("path", "query"):
            continue
        schema = parameter.get("schema", {})
        variants = schema.get("anyOf", [schema])
        if any(v.get("type") == "integer" and "maximum" not in v for v in variants):
            yield parameter["in"], parameter["name"], BEYOND_INT64
        free = ("enum", "pattern", "format", "const")
        if any(v.get("type") == "string" and not any(k in v for k in free) for v in variants):
            yield parameter["in"], parameter["name"], WITH_NUL


def fuzz(
    pytest_config, mode: str, headers: dict[str, str], people, document, *, share: float = 1.0
) -> Run:
    """Every operation, called as ``headers`` make the caller; ``share`` scales examples."""

    def examples(kind: str) -> int:
        return max(1, round(MAX_EXAMPLES[kind] * share))

    run = Run(mode)
    started = time.monotonic()
    with in_process():
        schema = load_schema()
        known = known_path_parameters(people, document)
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.label in EXCLUDED:
                continue
            kind = "read" if operation.method.upper() == "GET" else "write"
            for generation in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=generation)
                run_strategy(run, operation, strategy, headers, examples(kind))
            if operation.path in known:
                strategy = operation.as_strategy(path_parameters=known[operation.path])
                run_strategy(run, operation, strategy, headers, examples("known"))
            for location, name, value in edge_values(operation):
                where = "path_parameters" if location == "path" else location
                strategy = operation.as_strategy(**{where: {name: value}})
                run_strategy(run, operation, strategy, headers, examples("edge"))
    CASES_RUN[mode] = run.cases
    announce(
        pytest_config,
        f"[{mode}] {run.cases} schemathesis cases over {len(run.by_operation)} operations "
        f"in {time.monotonic() - started:.0f}s; statuses {dict(sorted(run.statuses.items()))}; "
        f"no negative case possible for {len(run.unsatisfiable)} operation(s)",
    )
    return run


def assert_clean(run: Run) -> None:
    assert run.cases > 0
    report = "\n\n".join(
        f"=== {operation}: {title}\n{text}" for (operation, title, _), text in run.failures.items()
    )
    if run.failures:
        pytest.fail(
            f"{len(run.failures)} failure(s) in {run.cases} cases ({run.mode}):\n\n{report}",
            pytrace=False,
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the runs --------------------------------------------------------------------------------


def test_anonymous(pytestconfig, people, shared_document):
    run = fuzz(pytestconfig, "anonymous", {}, people, shared_document)
    # No write succeeded without credentials (creations answer 201, deletions 204).
    assert not run.statuses.get(201) and not run.statuses.get(204), run.statuses
    assert_clean(run)


def test_secretariat_token(pytestconfig, people, tokens, shared_document):
    run = fuzz(pytestconfig, "secretariat", bearer(tokens["secretariat"]), people, shared_document)
    # The writes really ran with rights: some were accepted.
    assert run.statuses.get(201, 0) and run.statuses.get(204, 0), run.statuses
    assert_clean(run)


def test_focal_point_token(pytestconfig, people, tokens, shared_document):
    run = fuzz(pytestconfig, "focal_point", bearer(tokens["unicef"]), people, shared_document)
    assert_clean(run)


def test_revoked_token(pytestconfig, people, tokens, shared_document):
    """A revoked token is refused everywhere, reads included (the caller is told, not served
    as the public), with a 401 the document must declare. Few examples: every answer is the
    same refusal."""
    from gmg.accounts.models import ApiToken
    from gmg.accounts.services import revoke_token

    revoke_token(ApiToken.objects.get(user=people["fao_data"].user), by=SYSTEM)
    run = fuzz(
        pytestconfig,
        "revoked_token",
        bearer(tokens["fao_data"]),
        people,
        shared_document,
        share=0.2,
    )
    # 422s and 413s are input refused at the door before credentials are looked at (a NUL
    # character, a body too large, by RefuseNulCharacters); everything else is the 401.
    assert set(run.statuses) <= {401, 413, 422} and run.statuses[401] > 0, run.statuses
    assert_clean(run)
