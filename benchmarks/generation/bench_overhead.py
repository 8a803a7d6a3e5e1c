"""Per-generation overhead of the toolkit against a bare openai SDK call to the same loopback stand-in.

Run: ``.venv/bin/python benchmarks/generation/bench_overhead.py [--calls 200] [--sides 64 1024]``

For each picture size the stand-in serves (64 px: its small default; 1024 px: a full-size gpt-image-1
PNG), with the stand-in in a process of its own (``standin_process.py``), four ways of getting one image are
timed, interleaved call by call (in a rotating order) so that drift hits all alike:

- ``bare SDK``: ``AzureOpenAI(...).images.generate(...)`` plus ``base64.b64decode`` (the least a caller does
  to hold the image bytes): the reference;
- ``provider``: the toolkit's provider layer (validation, shared limiter, retry loop, error mapping, wire digest);
- ``generate()``: the public call without a project (adds decoding to pixels, hashing, the record);
- ``generate(project=)``: the same, storing the asset and the provenance record in a project (the project grows
  by one generation per call, as in real use).

Medians over ``--calls`` calls; the ratio is each median over the bare SDK median (target: at most 1.2).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from openai import AzureOpenAI  # noqa: E402

from imagestudio_nb.config import Deployment, Endpoint, Settings  # noqa: E402
from imagestudio_nb.generation import generate  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402
from imagestudio_nb.providers import azure_openai  # noqa: E402
from imagestudio_nb.providers.base import ImageRequest  # noqa: E402
from standin_process import StandInProcess  # noqa: E402
from tests.standin.server import API_KEY  # noqa: E402

API_VERSION = "2025-04-01-preview"


def measure(side: int, calls: int, url: str) -> dict[str, float]:
    endpoint = Endpoint(name="bench", base_url=url, api_key=API_KEY, api_version=API_VERSION,
                        deployments=[Deployment(name="gpt-image-1", model="gpt-image-1")])
    settings = Settings(endpoints=[endpoint], workspace=Path(tempfile.mkdtemp(prefix="bench-overhead-")))
    project = Project.create(f"overhead-{side}", workspace=settings.workspace)
    # Like for like: the provider's client also has the SDK's retries off and a 180 s timeout.
    bare = AzureOpenAI(azure_endpoint=url, api_version=API_VERSION, api_key=API_KEY, max_retries=0, timeout=180.0)
    provider = azure_openai.create_provider(settings, endpoint, endpoint.deployments[0])

    def bare_call():
        response = bare.images.generate(model="gpt-image-1", prompt="a red fox at dawn", size="1024x1024", n=1)
        return base64.b64decode(response.data[0].b64_json)

    ways = {
        "bare SDK": bare_call,
        "provider": lambda: provider.generate(ImageRequest("a red fox at dawn", "gpt-image-1", "1024x1024")),
        "generate()": lambda: generate("a red fox at dawn", model="gpt-image-1", settings=settings, progress=False),
        "generate(project=)": lambda: generate("a red fox at dawn", model="gpt-image-1", settings=settings,
                                               project=project, progress=False),
    }
    for way in ways.values():  # warm up connections, caches and imports
        way()
    times: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    for call in range(calls):
        # Rotate the order each round so that no way always follows the heavy project save (and its GC).
        for name in names[call % len(names):] + names[:call % len(names)]:
            way = ways[name]
            started = time.perf_counter()
            way()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sides", type=int, nargs="+", default=[64, 1024])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; stand-in in its own process")
    for side in args.sides:
        with StandInProcess(image_side=side) as url:
            medians = measure(side, args.calls, url)
        reference = medians["bare SDK"]
        print(f"\n{side}x{side} px pictures, median of {args.calls} calls each")
        print(f"{'way':<22}{'ms':>9}{'ratio':>8}{'own cost ms':>13}")
        for name, value in medians.items():
            print(f"{name:<22}{value:9.2f}{value / reference:8.2f}{value - reference:13.2f}")


if __name__ == "__main__":
    main()
