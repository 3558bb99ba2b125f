"""Check pyproject.toml's import contracts on the package as the wheel lays it out.

In a checkout, `whoru.api` lives in `api/` (setuptools' package-dir maps it there), and import-linter
reads a package from its one folder, where `api/` is not. So this builds that folder out of symbolic
links (whoru/'s own entries, and each mapped folder under its name) and runs `lint-imports` on it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_view(into: Path) -> Path:
    """Link the checkout's folders into into/whoru as the wheel nests them; return into."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    package = into / "whoru"
    package.mkdir()
    for entry in (ROOT / mapping["whoru"]).iterdir():
        (package / entry.name).symlink_to(entry)
    for name, folder in mapping.items():
        if name != "whoru" and (ROOT / folder / "__init__.py").exists():
            (package / name.removeprefix("whoru.")).symlink_to(ROOT / folder)
    return into


def main() -> int:
    """Run lint-imports on the package view; return its exit status."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    with tempfile.TemporaryDirectory(prefix="whoru-lint-") as folder:
        view = package_view(Path(folder))
        command = [str(lint_imports), str(ROOT / "pyproject.toml"), "--no-cache", *sys.argv[1:]]
        return subprocess.run(command, cwd=view).returncode


if __name__ == "__main__":
    sys.exit(main())
