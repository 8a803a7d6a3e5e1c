"""Print the SHA-256 of the local generator's bytes for each case of a reference table (run in a fresh process).

Usage: ``python -m tests.reference.local_generator [TABLE]`` prints ``{"key": sha256, ...}`` as JSON;
``--write`` records the current bytes into the table (only when the generator's version was bumped).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TABLE = Path(__file__).with_name("local_generator.json")


def case_key(case: dict) -> str:
    """A readable key: prompt | seed | size | format | other options."""
    extra = ",".join(f"{k}={case[k]}" for k in sorted(case) if k not in ("prompt", "seed", "size", "format"))
    return f"{case['prompt']} | seed {case['seed']} | {case['size']} | {case['format']}" + (f" | {extra}" if extra else "")


def digests(cases: list[dict]) -> dict[str, str]:
    """Generate every case through the public ``generate()`` on the ``local`` model; return key -> SHA-256."""
    from imagestudio_nb import generate

    found = {}
    for case in cases:
        options = {k: v for k, v in case.items() if k not in ("prompt", "seed", "size", "format")}
        result = generate(case["prompt"], model="local", seed=case["seed"], size=case["size"],
                          output_format=case["format"], progress=False, **options)[0]
        found[case_key(case)] = hashlib.sha256(result.data).hexdigest()
    return found


def main(argv: list[str]) -> None:
    write = "--write" in argv
    paths = [a for a in argv if not a.startswith("--")]
    path = Path(paths[0]) if paths else TABLE
    table = json.loads(path.read_text(encoding="utf-8"))
    found = digests(table["cases"])
    if write:
        import PIL

        table["sha256"] = found
        table["recorded_with"] = {"pillow": PIL.__version__, "python": sys.version.split()[0]}
        path.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1:])
