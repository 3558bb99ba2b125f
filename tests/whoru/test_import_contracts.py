"""The import contracts of pyproject.toml hold: entry points above the services, the services above the core."""

from __future__ import annotations

import subprocess
import sys

from whoru.settings import PROJECT_ROOT


def test_lint_imports_keeps_every_contract():
    script = PROJECT_ROOT / "scripts" / "lint_imports.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
