"""The wheel: one top-level package with its models and migrations, installed and run outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.utils.jobs import PHOTOS
from tests.utils.services import free_port
from whoru.cli.serve import wait_ready
from whoru.settings import PROJECT_ROOT

SETUPTOOLS = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
PHOTO = PHOTOS / "fr_obama_small.jpg"


def test_every_package_folder_is_in_the_wheel():
    folders = {name: PROJECT_ROOT / folder for name, folder in SETUPTOOLS["package-dir"].items()}
    found = {
        ".".join([name, *init.parent.relative_to(folder).parts])
        for name, folder in folders.items()
        for init in folder.rglob("__init__.py")
    }
    assert found <= set(SETUPTOOLS["packages"]), found - set(SETUPTOOLS["packages"])


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Build the wheel with `python -m build`, install it with pandas into a new venv; return the venv's bin folder."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(folder / "dist"), str(PROJECT_ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = (folder / "dist").glob("whoru-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
    bin_folder = folder / "venv" / "bin"
    subprocess.run([bin_folder / "pip", "install", "--quiet", f"{wheel}[pandas]"], check=True, capture_output=True)
    return bin_folder


def outside(bin_folder: Path, tmp_path: Path) -> dict[str, str]:
    """Return an environment with none of the checkout on its paths and a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHORU_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "PATH": f"{bin_folder}{os.pathsep}{env['PATH']}", "WHORU_HOME": str(tmp_path / "home")}


@pytest.mark.slow
def test_the_wheel_holds_only_whoru_and_analyses_a_photo_from_any_folder(installed, tmp_path):
    [wheel] = installed.parent.parent.glob("dist/whoru-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    assert {t for t in top if not t.endswith(".dist-info")} == {"whoru"}
    site = subprocess.run(
        [installed / "python", "-c", "import whoru, sys; print(whoru.__file__)"],
        cwd=tmp_path,
        env=outside(installed, tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in site.stdout and str(PROJECT_ROOT) not in site.stdout
    result = subprocess.run(
        [installed / "whoru", "analyze", str(PHOTO), "--json"],
        cwd=tmp_path,
        env=outside(installed, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [image] = json.loads(result.stdout)["images"]
    assert len(image["faces"]) == 1 and 20 < image["faces"][0]["age"] < 80


@pytest.mark.slow
def test_the_installed_wheel_serves_and_a_client_gets_its_faces(installed, tmp_path):
    env, port = outside(installed, tmp_path), free_port()
    log = (tmp_path / "serve.log").open("ab")
    served = subprocess.Popen(
        [installed / "whoru", "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, {"serve": served})
        script = (
            "import whoru, json; client = whoru.Client(server=%r); job = client.submit([%r], progress=False); "
            "print(json.dumps([job.wait(progress=False)['status'], len(job.to_dataframe())]))"
        ) % (url, str(PHOTO))
        result = subprocess.run(
            [installed / "python", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == ["succeeded", 1]
    finally:
        served.terminate()
        served.wait(30)
