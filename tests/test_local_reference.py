"""The local generator's bytes against a stored reference, in a fresh process.

"The same prompt, seed, size and format always give identical bytes" is only a claim while something
outside the process holds the bytes to compare with: ``tests/reference/local_generator.json`` stores
prompt, seed, size, format (and options) -> SHA-256, and a new interpreter (not this test process, so
nothing cached, seeded or imported here can help) regenerates every case through ``generate()``.

When the table may change: the local generator is versioned (``generator_version`` in the table).
A change to what it draws or how it encodes (``imagestudio_nb/providers/local.py``) that changes any of
these bytes is a new generator version: bump ``generator_version`` and rewrite the table with
``python -m tests.reference.local_generator --write`` in the same commit, and say so in the commit
message, since projects and experiments made before it will no longer re-run to the same bytes.
A Pillow upgrade can change the bytes too (its zlib, FreeType or libwebp); the table records the Pillow
version it was written with, and the failure message names both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.reference.local_generator import TABLE, case_key

REPO = Path(__file__).resolve().parents[1]


def _fresh_process_digests(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "IMAGESTUDIO_WORKSPACE": str(tmp_path / "workspace"),
           "IMAGESTUDIO_PROMPT_HISTORY": str(tmp_path / "history.sqlite"),
           "IMAGESTUDIO_CONFIG": str(tmp_path / "no-config.toml"), "PYTHONHASHSEED": "random"}
    done = subprocess.run([sys.executable, "-m", "tests.reference.local_generator", str(TABLE)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_table_covers_every_case_it_lists():
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert table["generator"] == "local" and isinstance(table["generator_version"], int)
    assert sorted(table["sha256"]) == sorted(case_key(case) for case in table["cases"])
    assert all(len(digest) == 64 for digest in table["sha256"].values())
    # Cases that differ in one input (seed, format, size, options) give different bytes.
    assert len(set(table["sha256"].values())) == len(table["cases"])


def test_a_fresh_process_draws_the_stored_bytes(tmp_path):
    import PIL

    table = json.loads(TABLE.read_text(encoding="utf-8"))
    found = _fresh_process_digests(tmp_path)
    differing = sorted(key for key in table["sha256"] if found.get(key) != table["sha256"][key])
    assert not differing, (
        f"the local generator (version {table['generator_version']}) no longer draws the stored bytes for "
        f"{differing}; table written with Pillow {table['recorded_with']['pillow']}, this is Pillow {PIL.__version__}. "
        "If the change is intended, bump generator_version and rewrite the table (see this module's docstring).")
