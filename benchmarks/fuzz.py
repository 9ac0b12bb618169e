"""Long fuzzing runs (rnnedge.fuzz): mutated .tflite files through rnnedge's stages on the
sanitizer build, and through the real command line, with counts by outcome.

    python benchmarks/fuzz.py --stages 2000 --cli 300 [--start N] [--no-sanitize] [--json]

Prints a markdown table (outcome, stages, cli) and every finding as `seed #case: outcome
(detail)`; a case reproduces with `rnnedge.fuzz.mutate(seed_models()[seed], case)`. Exit
code 1 when anything but "ok" / "error" occurred.
"""

import argparse
import json
import sys
import time

from tqdm import tqdm

from rnnedge import fuzz


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=2000, help="cases through the stages")
    parser.add_argument("--cli", type=int, default=300, help="cases through the CLI commands")
    parser.add_argument("--start", type=int, default=100_000, help="first case number")
    parser.add_argument("--no-sanitize", action="store_true", help="release kernel build")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results, seconds = {}, {}
    for part, count in (("stages", args.stages), ("cli", args.cli)):
        if count <= 0:
            continue
        bar = tqdm(total=count, desc=part, file=sys.stderr, leave=False)
        t = time.perf_counter()
        cases = fuzz.cases(count, args.start if part == "stages" else args.start + 10**6)
        if part == "stages":
            results[part] = fuzz.run_stages(cases, sanitize=not args.no_sanitize,
                                            progress=lambda n: bar.update(1))
        else:
            results[part] = fuzz.run_cli(cases, progress=lambda n: bar.update(1))
        seconds[part] = round(time.perf_counter() - t, 1)
        bar.close()
    bad = sum(n for r in results.values() for k, n in r["counts"].items() if k not in fuzz.GOOD)
    if args.json:
        print(json.dumps({"results": results, "seconds": seconds, "bad": bad}))
    else:
        parts = list(results)
        print("| outcome | " + " | ".join(parts) + " |")
        print("|---|" + "---:|" * len(parts))
        for outcome in fuzz.OUTCOMES:
            print(f"| {outcome} | " + " | ".join(str(results[p]["counts"][outcome])
                                                 for p in parts) + " |")
        print("| seconds | " + " | ".join(str(seconds[p]) for p in parts) + " |")
        for part, r in results.items():
            for seed, case, outcome, detail in r["findings"]:
                print(f"{part}: {seed} #{case}: {outcome} ({detail})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
