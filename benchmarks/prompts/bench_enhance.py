"""Local prompt enhancer benchmark: quality (rubric score before and after) and latency.

Run: ``.venv/bin/python benchmarks/prompts/bench_enhance.py [--repeats 7]``

On the fixed 50 short prompts of ``short_prompts.txt`` it prints the mean local rubric score before and
after ``enhance(engine="local")`` (with the spread and the share of prompts that reach 80), checks that
no user word is lost and no contradiction is added, and times one enhancement per prompt: the median
over prompts of the per-prompt median over repeats, beside parsing alone (``parse_prompt``, the reference
read every enhancement starts with) and the 5 ms budget, with the ratios.

Caveat printed with the figures: the rubric and the enhancer share one vocabulary, so the "after" score
says the enhancer fills every slot the rubric looks for; it is not a judgement of the images.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.config import Settings  # noqa: E402
from imagestudio_nb.prompts import enhance, parse_prompt, score  # noqa: E402

BUDGET_MS = 5.0


def load_prompts() -> list[str]:
    lines = (Path(__file__).with_name("short_prompts.txt")).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def per_prompt_ms(fn, prompts: list[str], repeats: int) -> list[float]:
    times = []
    for prompt in prompts:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn(prompt)
            samples.append((time.perf_counter() - start) * 1000)
        times.append(statistics.median(samples))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    prompts = load_prompts()
    assert len(prompts) == 50, len(prompts)
    settings = Settings()  # no endpoints, no default style: the offline default

    def run(prompt: str):
        return enhance(prompt, engine="local", settings=settings)

    run(prompts[0])  # load the vocabulary once, as a session would
    results = [run(p) for p in prompts]
    before = [score(p).total for p in prompts]
    after = [score(r.prompt).total for r in results]
    lost = [p for p, r in zip(prompts, results) if not r.prompt.lower().startswith(
        ", ".join(x.strip() for x in p.split(",")).lower())]
    added_conflicts = sum(len(parse_prompt(r.prompt).conflicts) - len(parse_prompt(p).conflicts)
                          for p, r in zip(prompts, results))
    words_added = statistics.median(len(re.findall(r"\w+", r.prompt)) - len(re.findall(r"\w+", p))
                                    for p, r in zip(prompts, results))
    presets = Counter(r.style for r in results).most_common()

    print(f"prompts: {len(prompts)} (benchmarks/prompts/short_prompts.txt)")
    print(f"mean local score before: {statistics.mean(before):5.1f} / 100  (min {min(before)}, max {max(before)})")
    print(f"mean local score after:  {statistics.mean(after):5.1f} / 100  (min {min(after)}, max {max(after)})")
    print(f"mean gain: {statistics.mean(a - b for a, b in zip(after, before)):+.1f} points; "
          f"prompts at 80 or more: {sum(b >= 80 for b in before)} before, {sum(a >= 80 for a in after)} after")
    print(f"median words added: {words_added:.0f}; user text kept verbatim: {len(prompts) - len(lost)}/{len(prompts)}; "
          f"contradictions added: {added_conflicts}")
    print("presets used (no style given: inferred or general): " + ", ".join(f"{n} {c}" for n, c in presets))
    lowest = sorted(zip(after, prompts))[:3]
    print("lowest after: " + "; ".join(f"{s} {p!r}" for s, p in lowest))
    print("caveat: the rubric and the enhancer share one vocabulary; 'after' measures slot coverage, "
          "not image quality")

    enhance_ms = per_prompt_ms(run, prompts, args.repeats)
    parse_ms = per_prompt_ms(parse_prompt, prompts, args.repeats)
    med_enhance, med_parse = statistics.median(enhance_ms), statistics.median(parse_ms)
    print(f"latency, median over prompts of the median of {args.repeats} repeats:")
    print(f"  enhance(engine='local'): {med_enhance:.3f} ms  (p90 {statistics.quantiles(enhance_ms, n=10)[-1]:.3f} ms, "
          f"max {max(enhance_ms):.3f} ms)")
    print(f"  reference parse_prompt:  {med_parse:.3f} ms  ratio enhance/parse: {med_enhance / med_parse:.1f}x")
    print(f"  budget {BUDGET_MS:.1f} ms:             ratio enhance/budget: {med_enhance / BUDGET_MS:.2f} "
          f"({'within' if med_enhance < BUDGET_MS else 'OVER'} budget)")


if __name__ == "__main__":
    main()
