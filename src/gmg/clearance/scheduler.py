"""The in-process scheduler: a daemon thread in each server process that ticks every
``GMG_TICK_SECONDS``. Ticks are idempotent and claim their mail row by row, so several
processes (or servers, or a cron ``gmg tick`` besides) may run it at once.

Rounds do not wait for it: their state is derived from the deadline on every read. It only
records closings and sends the mails due.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)
_started = threading.Event()


def _loop(interval: int, stop: threading.Event) -> None:
    from gmg.clearance.notifications import tick

    try:
        while not stop.wait(interval):
            try:
                close_old_connections()
                tick()
            except Exception:  # keep ticking: the next tick retries what failed
                log.exception("clearance tick failed")
            finally:
                close_old_connections()
    finally:
        connections.close_all()  # this thread's connections: stopped, it holds none open


def start(stop: threading.Event | None = None) -> threading.Thread | None:
    """Start ticking in this process (once); ``None`` when turned off."""
    interval = settings.GMG_TICK_SECONDS
    if interval <= 0 or _started.is_set():
        return None
    _started.set()
    thread = threading.Thread(
        target=_loop, args=(interval, stop or threading.Event()), name="gmg-tick", daemon=True
    )
    thread.start()
    return thread
