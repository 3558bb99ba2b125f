"""The console script: every subcommand answers --help, and light commands never import TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from whoru.cli.main import SUBCOMMANDS, main


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = main.get_command(None, name)
    for parameter in command.params:
        if parameter.param_type_name == "option" and not parameter.hidden and parameter.name not in ("help",):
            assert parameter.help, f"{name} --{parameter.name} has no help"


def test_db_upgrade_has_help():
    result = CliRunner().invoke(main, ["db", "upgrade", "--help"])
    assert result.exit_code == 0 and "--revision" in result.output


@pytest.mark.parametrize(
    "module", ["whoru.cli.main", "whoru.api", "whoru.api.cli", "whoru.client.cli", "whoru.celery_app"]
)
def test_api_and_client_never_import_tensorflow(module):
    code = (
        f"import sys, {module}; from whoru.api import create_app; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
