"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Files are created as any program creates them: mode 0666 minus the user's umask (and a folder's default
ACL), so exports are as readable to the group as the user's other files. Nothing here chooses a mode.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    # Not tempfile.mkstemp: it creates 0600 files whatever the umask, and a rename keeps that mode. Opening
    # with 0666 lets the kernel apply the umask itself; reading the umask would need os.umask(0), which
    # changes it for every thread for a moment.
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, _CREATE, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {folder / name}")


def write_atomic(path: Path, data: bytes | str, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, then rename.

    The file gets the mode a new file gets from the user's umask (0644 under umask 022), also when it
    replaces an older one.

    With ``durable=False`` the fsync is left to the caller (see :func:`fsync_file`), which must run
    it before anything that depends on the file is made durable.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = _create_temporary(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fsync_file(path: Path) -> None:
    """Flush a file's content to disk (a no-op for a file that is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
