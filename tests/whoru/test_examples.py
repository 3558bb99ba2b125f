"""The scripts in docs/examples run as a reader would run them, against `whoru serve`, on fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from PIL import Image

from tests.utils.jobs import PHOTOS
from tests.utils.services import ROOT

EXAMPLES = ROOT / "docs" / "examples"
TRUTH = json.loads((PHOTOS / "faces.json").read_text())


def test_the_age_histogram_example_plots_every_face_of_a_folder(serve, tmp_path):
    served = serve()
    out = tmp_path / "ages.png"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "age_histogram.py"), str(PHOTOS), "--server", served.url, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=served.env,
    )
    assert result.returncode == 0, result.stderr
    faces = int(re.search(r": (\d+) faces, median age \d+", result.stdout).group(1))
    assert abs(faces - sum(truth["faces"] for truth in TRUTH.values())) <= 1
    with Image.open(out) as plot:
        assert plot.format == "PNG" and plot.width > 400
