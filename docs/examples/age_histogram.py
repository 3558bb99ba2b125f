"""Submit a folder of photos to a running whoru service and plot the age histogram of its faces.

    python docs/examples/age_histogram.py ~/Pictures/2026 --out ages.png

It needs `pip install 'whoru[pandas]' matplotlib` and a service (`whoru serve` in another
terminal); the server and key are found as the CLI finds them (WHORU_SERVER, WHORU_API_KEY, or
the key `whoru serve` saved).
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")  # draws to a file: no display needed

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

import whoru  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Submit the folder, wait for its job, and save the histogram of the ages found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of photos (searched recursively)")
    parser.add_argument("--out", default="ages.png", help="where to save the histogram (PNG)")
    parser.add_argument("--server", help="the whoru API (default: WHORU_SERVER, else http://127.0.0.1:8000)")
    args = parser.parse_args(argv)

    job = whoru.Client(args.server).submit(args.folder)
    job.wait()
    faces = job.to_dataframe().dropna(subset=["face"])

    figure, axes = plt.subplots(figsize=(8, 4))
    axes.hist(faces["age"], bins=range(0, 105, 5), edgecolor="white")
    axes.set(xlabel="age (years)", ylabel="faces", title=f"{len(faces)} faces in {faces['image'].nunique()} photos")
    figure.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"job {job.id}: {len(faces)} faces, median age {faces['age'].median():.0f}; histogram saved to {args.out}")


if __name__ == "__main__":
    main()
