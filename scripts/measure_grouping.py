"""Time grouping a big job's faces on one core: real LFW descriptors, repeated with noise up to the size asked.

Each copy of a real descriptor is moved by Gaussian noise; the copies stay near their person, so
at 100,000 faces the job holds LFW's people with some thirty times their photos each (and the
people the noise splits off): large groups, the hard case for the neighbour graph. Prints the
faces, people, time and peak memory of the process; asserts nothing.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 \
        python scripts/measure_grouping.py /tmp/lfw-embeddings.npz --faces 100000
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from whoru.grouping import average_linkage, person_labels, unit_rows
from whoru.settings import Settings


def workload(cache: Path, faces: int, noise: float, seed: int = 0) -> np.ndarray:
    """Return `faces` unit descriptors: the cached real ones, then noisy copies of them."""
    real = np.load(cache)["vectors"].astype(np.float32)
    rng = np.random.default_rng(seed)
    copies = [real]
    while sum(len(c) for c in copies) < faces:
        # Scale the noise to each descriptor's spread so a copy stays as far from its source as a
        # second photo of the same person would.
        copies.append(
            unit_rows(
                real + noise * rng.standard_normal(real.shape, dtype=np.float32) * real.std(axis=1, keepdims=True)
            )
        )
    return np.concatenate(copies)[:faces]


def main() -> None:
    """Group a workload of the size asked and print what it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="descriptors written by scripts/measure_people_lfw.py --cache")
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument(
        "--noise", type=float, default=0.5, help="noise per copy, in units of a descriptor's own spread"
    )
    args = parser.parse_args()
    settings = Settings.from_env()
    vectors = workload(args.cache, args.faces, args.noise)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    labels = person_labels(
        average_linkage(vectors, settings.people_threshold, settings.people_neighbours, in_place=True)
    )
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"faces {len(vectors)} people {len(set(labels))} threshold {settings.people_threshold} "
        f"neighbours {settings.people_neighbours}: {wall / 60:.2f} min wall, {used / 60:.2f} min CPU, "
        f"peak RSS {peak / 1024:.0f} MB (workload alone {before / 1024:.0f} MB)"
    )


if __name__ == "__main__":
    main()
