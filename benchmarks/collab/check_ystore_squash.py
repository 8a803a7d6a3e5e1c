"""Does the room store's squashing keep a document? (Why ``imagestudio lab`` leaves it off.)

jupyter-collaboration's ``SQLiteYStore.squash_after_inactivity_of`` replaces a document's stored updates by
one squashed update after a spell without changes. pycrdt-store 0.1.5 replays the old updates into the
squashed document only when a decompressor is registered, so without one it stores an empty document and
deletes the history. This writes "hello " and, after the spell, "world", then reads the store back.
Run: ``.venv/bin/python benchmarks/collab/check_ystore_squash.py`` (exit 1 while squashing loses content).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from pycrdt import Doc, Text
from pycrdt.store import SQLiteYStore


async def stored_after_squash() -> tuple[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="ystore-squash-"))

    class Store(SQLiteYStore):
        db_path = str(folder / "ystore.db")
        squash_after_inactivity_of = 1

    doc = Doc()
    text = doc.get("t", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    async with Store("doc") as store:
        text += "hello "
        await store.write(updates[-1])
        await asyncio.sleep(1.5)  # past the spell: the next write squashes
        text += "world"
        await store.write(updates[-1])
        fresh = Doc()
        await store.apply_updates(fresh)
    return str(text), str(fresh.get("t", type=Text))


def main() -> int:
    written, stored = asyncio.run(stored_after_squash())
    kept = written == stored
    print(f"pycrdt-store {version('pycrdt-store')}: wrote {written!r}, the store holds {stored!r} after squashing: "
          + ("kept" if kept else "LOST (leave squash_after_inactivity_of unset)"))
    return 0 if kept else 1


if __name__ == "__main__":
    sys.exit(main())
