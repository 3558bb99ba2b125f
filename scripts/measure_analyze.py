"""What `whoru.analyze` costs in one process: the first call (it loads the detector and the model), then each photo.

python scripts/measure_analyze.py --repeat 5 tests/fixtures/photos/*.jpg
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def main() -> None:
    """Time the first call and then every later one; print both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="+", type=Path, help="photos to analyse")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the photos after the first call")
    parser.add_argument("--model", default="default", help="model name or folder")
    args = parser.parse_args()
    started = time.perf_counter()
    import whoru

    whoru.analyze(args.photos[0], args.model)
    first = time.perf_counter() - started
    seconds = []
    for _ in range(args.repeat):
        for path in args.photos:
            start = time.perf_counter()
            whoru.analyze(path, args.model)
            seconds.append(time.perf_counter() - start)
    print(f"import and first call (loads the detector and the model): {first:.2f} s")
    print(
        f"later calls: median {statistics.median(seconds) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms over {len(seconds)} calls"
    )


if __name__ == "__main__":
    main()
