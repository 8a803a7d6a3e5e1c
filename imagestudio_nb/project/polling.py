"""Taking in other processes' changes while a kernel holds a project open, between cells.

A kernel is idle most of the time, so reads alone would leave its widgets showing a stale document
while a CLI batch or another kernel writes the same project. When the calling thread runs an asyncio
loop (IPython kernels do), a timer on that loop merges new log rows every ``IMAGESTUDIO_POLL_SECONDS``
(0.5 s by default; 0 turns it off). The timer runs on the loop's own thread, the one that owns the
document, and stops when the project is closed or forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from typing import Any

log = logging.getLogger(__name__)


def poll_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("IMAGESTUDIO_POLL_SECONDS", "0.5")))
    except ValueError:
        return 0.5


def start_polling(project: Any) -> bool:
    """Merge ``project``'s new log rows periodically on the running loop; ``False`` when there is none."""
    interval = poll_seconds()
    if interval <= 0:
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    ref = weakref.ref(project)

    def tick() -> None:
        target = ref()
        if target is None or target._store.log is None or not target.path.exists():
            return
        try:
            target.refresh()
        except Exception as exc:  # a poll must never break the kernel; the next explicit read reports it
            log.debug("could not take in changes of %s: %s", target.path, exc)
        if getattr(target._store, "closed", False):
            return
        loop.call_later(interval, tick)

    loop.call_later(interval, tick)
    return True
