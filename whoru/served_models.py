"""The models a deployment serves, by name: the default (WHORU_MODEL) and the others beside it
(WHORU_MODELS). Reads only their cards, so the API can check a job's choice without loading any."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from whoru.model_card import ModelCard
from whoru.settings import Settings


@dataclass(frozen=True)
class ServedModel:
    """A model a job may choose: its name and version (from its card) and its directory."""

    name: str
    version: str
    directory: Path


def served_models(settings: Settings) -> dict[str, ServedModel]:
    """Return the served models by card name, the default first."""
    directories = [
        settings.model,
        *(settings.model.parent / name.strip() for name in settings.models.split(",") if name.strip()),
    ]
    models: dict[str, ServedModel] = {}
    for directory in directories:
        card = ModelCard.load(directory)
        models.setdefault(card.name, ServedModel(card.name, card.version, directory))
    return models
