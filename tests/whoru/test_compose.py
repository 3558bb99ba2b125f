"""docker-compose.yml cannot run here (no Docker engine); check everything it names exists."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import yaml
from click.testing import CliRunner

from whoru.cli import main
from whoru.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_health_checks():
    services = COMPOSE["services"]
    assert {"api", "worker", "redis", "postgres", "flower", "migrate"} <= set(services)
    for name in ("postgres", "redis", "api"):
        assert "healthcheck" in services[name], name
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in services["worker"], "workers must scale with --scale worker=N"


def test_redis_keeps_tasks():
    command = COMPOSE["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_every_whoru_command_and_option_exists():
    for name, service in COMPOSE["services"].items():
        command = service.get("command")
        if not command or command[0] != "whoru":
            continue
        words = [w for w in command[1:] if not w.startswith("-")][:2]
        result = CliRunner().invoke(main, [*words[: 2 if words[0] == "db" else 1], "--help"])
        assert result.exit_code == 0, (name, result.output)
        for option in (w for w in command if w.startswith("--")):
            assert option in result.output, (name, option)


def test_every_setting_named_is_a_real_setting():
    known = {f"WHORU_{f.name.upper()}" for f in fields(Settings)}
    for name, service in COMPOSE["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("WHORU_"):
                assert variable in known, (name, variable)


def test_the_image_installs_flower_and_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert ".[deploy]" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "flower" in pyproject and "gunicorn" in pyproject
    for service in ("api", "worker", "migrate", "flower"):
        assert COMPOSE["services"][service]["build"] == "."
