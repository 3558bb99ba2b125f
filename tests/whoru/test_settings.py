"""Settings come from WHORU_* variables, with safe defaults, checked once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from whoru.cli.main import main
from whoru.settings import Settings, default_home, get_settings


def test_defaults_are_local_and_safe():
    settings = Settings.from_env({})
    assert settings.home == default_home() and default_home().name == "whoru"
    assert settings.database_url == f"sqlite:///{settings.home / 'whoru.db'}"
    assert settings.storage_dir == settings.home / "storage" and settings.local_key_file == settings.home / "api-key"
    assert settings.redis_url == "" and settings.broker_url == "redis://127.0.0.1:6379/0"
    assert settings.model.name == "default" and (settings.model / "card.json").exists()


def test_one_home_holds_the_embedded_service(tmp_path):
    settings = Settings.from_env({"WHORU_HOME": str(tmp_path)})
    assert (
        settings.database_url == f"sqlite:///{tmp_path / 'whoru.db'}" and settings.storage_dir == tmp_path / "storage"
    )
    assert settings.local_key_file == tmp_path / "api-key"


def test_values_are_read_and_typed():
    settings = Settings.from_env({"WHORU_TASK_IMAGES": "7", "WHORU_DETECT_SCORE": "0.5", "WHORU_STORAGE_DIR": "/x/y"})
    assert settings.task_images == 7 and settings.detect_score == 0.5 and settings.storage_dir == Path("/x/y")


def test_bad_values_are_refused_with_the_variable_name():
    with pytest.raises(ValueError, match="WHORU_TASK_IMAGES"):
        Settings.from_env({"WHORU_TASK_IMAGES": "many"})
    with pytest.raises(ValueError, match="WHORU_TASK_IMAGES"):
        Settings.from_env({"WHORU_TASK_IMAGES": "0"})


def test_production_refuses_development_defaults():
    with pytest.raises(ValueError, match="WHORU_DATABASE_URL"):
        Settings.from_env({"WHORU_ENV": "production", "WHORU_REDIS_URL": "redis://r:6379/0"})
    with pytest.raises(ValueError, match="WHORU_REDIS_URL"):
        Settings.from_env({"WHORU_ENV": "production", "WHORU_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    ok = Settings.from_env(
        {
            "WHORU_ENV": "production",
            "WHORU_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "WHORU_REDIS_URL": "redis://r:6379/0",
        }
    )
    assert ok.env == "production"


def test_every_setting_is_described_from_the_model():
    variables = Settings.variables()
    assert "WHORU_TASK_IMAGES" in variables and all(variables.values())


def test_settings_are_read_once_per_process_and_frozen():
    assert get_settings() is get_settings()
    with pytest.raises(ValidationError, match="frozen"):
        get_settings().task_images = 1  # type: ignore[misc]


def test_a_given_mapping_alone_is_read(monkeypatch):
    monkeypatch.setenv("WHORU_TASK_IMAGES", "5")
    assert Settings.from_env({}).task_images == 32 and Settings.from_env().task_images == 5


def test_the_cli_shows_a_refused_setting_in_one_line():
    result = CliRunner().invoke(main, ["purge", "--older-than", "1"], env={"WHORU_TASK_IMAGES": "many"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "Error: WHORU_TASK_IMAGES: Input should be a valid integer, unable to parse string as an integer"
    ]
