"""Automatic backup on save: debounced, in one background thread, never blocking the notebook.

A save only records "this project changed" (a dictionary write under a lock); the thread waits for
the edits to pause, then pushes the project as saved on disk. When the storage cannot be reached the
push is retried with a growing delay, so the cloud catches up on reconnect. The background thread
never changes the open project: a remote merge is uploaded and reaches the notebook at its next pull.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CloudUnavailableError, ImageStudioError
from .connection import CloudWorkspace, connect

if TYPE_CHECKING:
    from ..project import Project

log = logging.getLogger(__name__)


class AutoBackup:
    """Backs up projects a short while after their last save. Use :func:`enable_auto_backup`.

    Parameters
    ----------
    workspace : CloudWorkspace, optional
        Where to back up; connected (in the background) from the configuration when omitted.
    delay : float
        Seconds of quiet after a save before the backup starts (edits in between restart the wait).
    max_backoff : float
        Longest wait between retries while the storage is unreachable.
    """

    def __init__(self, workspace: CloudWorkspace | None = None, *, delay: float = 2.0, max_backoff: float = 60.0):
        self._workspace = workspace
        self.delay = delay
        self.max_backoff = max_backoff
        self._cond = threading.Condition()
        self._pending: dict[Path, tuple[Project, float, int]] = {}   # path -> (project, due, failures)
        self._busy: Path | None = None
        self._attempts: dict[Path, int] = {}
        self._stopped = False
        self._status: dict[str, dict[str, Any]] = {}
        self._thread = threading.Thread(target=self._run, name="imagestudio-autobackup", daemon=True)
        self._thread.start()

    # --- called from the saving thread: must stay quick ------------------------------------------
    def schedule(self, project: Project) -> None:
        """Note that ``project`` changed; the backup runs ``delay`` seconds after the last such call."""
        with self._cond:
            previous = self._pending.get(project.path)
            self._pending[project.path] = (project, time.monotonic() + self.delay, previous[2] if previous else 0)
            self._status.setdefault(project.name, {})["state"] = "pending"
            self._cond.notify()

    # --- the background thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    due = [path for path, (_, when, _) in self._pending.items() if when <= now]
                    if due:
                        break
                    wait = min((when for _, when, _ in self._pending.values()), default=now + 3600) - now
                    self._cond.wait(timeout=max(0.01, wait))
                if self._stopped:
                    return
                path = due[0]
                project, _, failures = self._pending.pop(path)
                self._busy = path
            try:
                self._backup(project, failures)
            finally:
                with self._cond:
                    self._busy = None
                    self._attempts[path] = self._attempts.get(path, 0) + 1
                    self._cond.notify_all()

    def _backup(self, project: Project, failures: int) -> None:
        from .blob_sync import push

        entry = self._status.setdefault(project.name, {})
        try:
            if self._workspace is None:
                self._workspace = connect()
            result = push(project, self._workspace, progress=False, merge_into_local=False, from_disk=True)
        except Exception as exc:  # retried later; one line in the log, never a traceback with a secret
            failures += 1
            backoff = min(self.max_backoff, self.delay * 2 ** failures)
            message = str(exc) if isinstance(exc, ImageStudioError) else type(exc).__name__
            entry.update(state="offline" if isinstance(exc, CloudUnavailableError) else "failed", error=message,
                         retry_in=round(backoff, 2), failures=failures)
            if failures == 1:
                log.warning("automatic backup of %s failed (%s); retrying in the background", project.name, message)
            with self._cond:
                if project.path not in self._pending and not self._stopped:
                    self._pending[project.path] = (project, time.monotonic() + backoff, failures)
                    self._cond.notify()
            return
        entry.update(state="backed up", error=None, retry_in=None, failures=0, last_backup=time.time(),
                     last_result=result.as_dict())

    # --- control -----------------------------------------------------------------------------------
    def flush(self, timeout: float = 60.0) -> bool:
        """Run pending backups now and wait for them; ``True`` when each succeeded and nothing is pending."""
        from ..project.persistence import WRITER

        WRITER.flush()  # project changes not yet written: writing them schedules their backups
        deadline = time.monotonic() + timeout
        with self._cond:
            self._pending = {path: (project, 0.0, failures) for path, (project, _, failures) in self._pending.items()}
            waiting = {path: self._attempts.get(path, 0) for path in [*self._pending, self._busy] if path is not None}
            self._cond.notify_all()
            while any(self._attempts.get(path, 0) <= count for path, count in waiting.items()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=min(left, 0.1))
            return not self._pending and self._busy is None

    def status(self) -> dict[str, dict[str, Any]]:
        """Per project: ``state`` ("pending", "backed up", "offline", "failed"), last error, retry delay."""
        with self._cond:
            return {name: dict(entry) for name, entry in self._status.items()}

    def stop(self, *, flush: bool = True, timeout: float = 60.0) -> None:
        """Stop the thread (after running pending backups, unless ``flush=False``)."""
        if flush:
            self.flush(timeout)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=timeout)


_active: AutoBackup | None = None
_exit_registered = False
_active_lock = threading.Lock()


def _save_hook(project: Project) -> None:
    backup = _active
    if backup is not None:
        backup.schedule(project)


def enable_auto_backup(workspace: CloudWorkspace | None = None, *, delay: float = 2.0,
                       max_backoff: float = 60.0) -> AutoBackup:
    """Back up every project a moment after each save (registers a save hook). Returns the engine.

    Examples
    --------
    >>> backup = enable_auto_backup(delay=60)   # nothing connects until a project is saved
    >>> disable_auto_backup(flush=False)
    """
    from ..project.project import SAVE_HOOKS

    global _active
    with _active_lock:
        if _active is not None:
            _active.stop(flush=False)
        _active = AutoBackup(workspace, delay=delay, max_backoff=max_backoff)
        if _save_hook not in SAVE_HOOKS:
            SAVE_HOOKS.append(_save_hook)
        global _exit_registered
        if not _exit_registered:
            import atexit

            # Give the last edits of a session a short chance to reach the cloud when Python exits.
            atexit.register(lambda: _active is not None and _active.flush(timeout=10))
            _exit_registered = True
        return _active


def disable_auto_backup(*, flush: bool = True, timeout: float = 60.0) -> None:
    """Stop automatic backups (running pending ones first, unless ``flush=False``)."""
    from ..project.project import SAVE_HOOKS

    global _active
    with _active_lock:
        if _save_hook in SAVE_HOOKS:
            SAVE_HOOKS.remove(_save_hook)
        backup, _active = _active, None
    if backup is not None:
        backup.stop(flush=flush, timeout=timeout)


def auto_backup() -> AutoBackup | None:
    """The running automatic backup, if enabled."""
    return _active


def install_from_config() -> AutoBackup | None:
    """Enable automatic backup when the configuration says ``[storage] auto_backup = true``."""
    from ..config import load_config

    if load_config().storage.auto_backup and _active is None:
        return enable_auto_backup()
    return _active
