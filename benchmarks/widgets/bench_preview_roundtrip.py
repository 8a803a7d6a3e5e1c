"""Filter preview round trip in a real browser: from a slider's input event to the new preview painted.

The FilterPanel asks the kernel for a preview of a 1024x1024 layer at screen resolution with a five-step
chain; the kernel renders it (``render_preview``) and sends JPEG bytes as a binary buffer. Measured in
Chromium with performance.now(), one slider change at a time. Beside it, in the same run: the kernel's own
render time, the same round trip on a stock Jupyter Server (Nagle's algorithm on: the project's server
extension ``imagestudio_nb.widgets.server`` turns it off), and the naive reference of rendering at full size
and encoding a PNG. Target: median < 50 ms.

Run: ``.venv/bin/python benchmarks/widgets/bench_preview_roundtrip.py [--changes N]``
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness import lab_page, metrics, reset_metrics, summary

CHAIN = """[{"filter": "brightness", "params": {"amount": 0.1}}, {"filter": "contrast", "params": {"amount": 0.2}},
 {"filter": "saturation", "params": {"amount": 0.3}}, {"filter": "gaussian_blur", "params": {"sigma": 3}},
 {"filter": "unsharp_mask", "params": {"radius": 2, "amount": 0.5}}]"""
BUDGET_MS = 50.0


def reference_full_png(repeats: int = 9) -> float:
    """The naive way: render the chain at full size and encode lossless PNG (kernel work only)."""
    import json

    import numpy as np

    from imagestudio_nb.imaging.chains import apply_chain
    from imagestudio_nb.imaging.codec import encode_image

    rng = np.random.default_rng(0)
    image = (rng.random((1024, 1024, 3)) * 255).astype(np.uint8)
    chain = json.loads(CHAIN)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        encode_image(apply_chain(image, chain), "png")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args()
    cells = [f"panel = FilterPanel(project, layer=photo)\npanel.chain = {CHAIN}\npanel"]
    runs = {}
    for nodelay in (True, False):
        runs[nodelay] = measure(cells, args.changes, nodelay=nodelay)
    reference = reference_full_png()
    side, round_trip, to_frame, kernel = runs[True]
    median = statistics.median(round_trip)
    print(f"preview round trip, 1024x1024 layer, five-step chain, preview {side} px (JPEG, binary buffer)")
    print(f"  slider input -> preview drawn      {summary(round_trip)}")
    print(f"  slider input -> next frame         {summary(to_frame)}")
    print(f"  kernel render + encode (in it)     {summary(kernel)}")
    print(f"  same on stock Jupyter Server (Nagle's algorithm on): {summary(runs[False][1])}")
    print(f"  reference: full-size render + PNG encode in the kernel alone: {reference:.1f} ms")
    print(f"  ratio reference / round trip: {reference / median:.1f}x   budget {BUDGET_MS:.0f} ms: "
          f"{'met' if median < BUDGET_MS else 'MISSED'} ({median / BUDGET_MS:.2f} of it)")


def measure(cells, changes: int, *, nodelay: bool):
    with lab_page(cells, nodelay=nodelay) as page:
        panel = page.locator(".is-filter-panel")
        preview = panel.locator("[data-role=preview]")
        page.wait_for_function("(el) => +el.dataset.seq >= 1", arg=preview.element_handle(), timeout=60_000)
        panel.locator("[data-step='0']").click()
        slider = panel.locator("input[data-param=amount]")
        side = preview.evaluate("(el) => Math.max(el.width, el.height)")
        reset_metrics(page)
        for change in range(changes):
            seq = int(preview.get_attribute("data-seq"))
            value = round(-0.5 + (change % 20) / 20, 3)
            slider.evaluate("(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }", value)
            page.wait_for_function("([el, seq]) => +el.dataset.seq > seq", arg=[preview.element_handle(), seq], timeout=30_000)
            page.wait_for_timeout(30)
        round_trip = metrics(page, "preview_round_trip_ms")
        to_frame = metrics(page, "preview_to_frame_ms")
        kernel = metrics(page, "preview_kernel_ms")
    return side, round_trip, to_frame, kernel


if __name__ == "__main__":
    main()
