"""Time to the first partial image against time to the full image, through the real openai SDK and this package's
``generate_stream`` against the loopback stand-in, which waits a set delay before every streamed event.

Run: ``.venv/bin/python benchmarks/video/bench_first_partial.py [--delay 0.25] [--partials 3] [--repeats 7]``

With ``partial_images = P`` the stand-in sends P partial images then the final one, sleeping ``delay`` before each,
so the ideal is ``delay`` to the first partial and ``(P + 1) * delay`` to the final image. Printed: the medians of
both, their ratio, the package's overhead over the ideal, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.config import Settings  # noqa: E402
from imagestudio_nb.streaming import generate_stream  # noqa: E402
from tests.providers.helpers import endpoint_for  # noqa: E402
from tests.standin.server import API_KEY, AzureStandIn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.25)
    parser.add_argument("--partials", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    os.environ["AZURE_OPENAI_API_KEY"] = API_KEY
    print(f"load average before: {os.getloadavg()}")
    standin = AzureStandIn().start()
    try:
        standin.state["stream_delay"] = args.delay
        standin.state["image_side"] = 1024
        settings = Settings(endpoints=[endpoint_for(standin.url)])
        first, final = [], []
        for _ in range(args.repeats):
            started = time.perf_counter()
            stream = generate_stream("a fox at dawn", model="gpt-image-2", size="1024x1024",
                                     partial_images=args.partials, settings=settings, progress=False)
            for index, _partial in enumerate(stream):
                if index == 0:
                    first.append(time.perf_counter() - started)
            stream.results
            final.append(time.perf_counter() - started)
    finally:
        standin.stop()
    ideal_first, ideal_final = args.delay, (args.partials + 1) * args.delay
    f, g = statistics.median(first), statistics.median(final)
    print(f"delay {args.delay} s per event, {args.partials} partial images, 1024x1024 PNG, {args.repeats} runs")
    print(f"first partial image: median {f * 1000:.0f} ms (ideal {ideal_first * 1000:.0f} ms, "
          f"overhead {(f - ideal_first) * 1000:.0f} ms)")
    print(f"final image:         median {g * 1000:.0f} ms (ideal {ideal_final * 1000:.0f} ms, "
          f"overhead {(g - ideal_final) * 1000:.0f} ms)")
    print(f"first partial arrives after {f / g:.0%} of the time to the final image")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
