"""A model directory's card.json: the fields the code reads, typed; every other field kept as written.

Training recipes write many more fields (model details, training data, recipe, figures); they
are carried along untouched, so a card read and saved again loses nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_serializer, model_validator

CARD = "card.json"


class ModelCardError(ValueError):
    """A card.json that cannot be read; the message names the file."""


class _Open(BaseModel):
    """A card object that keeps the fields it does not declare, and writes them back in the order it read them."""

    model_config = ConfigDict(extra="allow")
    _order: tuple[str, ...] = PrivateAttr(())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data, handler):
        """Note the order of the fields as written, so that saving a card changes only what changed."""
        card = handler(data)
        if isinstance(data, dict):
            card._order = tuple(data)
        return card

    @model_serializer(mode="wrap")
    def _in_written_order(self, handler) -> dict:
        """Return the fields in the order they were read; new fields follow."""
        rank = {name: i for i, name in enumerate(self._order)}
        return dict(sorted(handler(self).items(), key=lambda item: rank.get(item[0], len(rank))))


class Inference(_Open):
    """How the model is served."""

    # True (every network), False, or the networks whose outputs are averaged with their mirror image's.
    mirror_average: bool | list[str] = False
    # Widens (above 1) or narrows the age distribution before its 10th to 90th percentile is taken.
    age_range_temperature: float = Field(1.0, gt=0)
    # Temperatures by the face's untempered median age, {"upper_ages": [...], "temperatures": [...]}
    # (one more temperature than ages); when set, it replaces age_range_temperature.
    age_range_by_age: dict[str, list[float]] | None = None


class Head(_Open):
    """A stacked model's NumPy head: its file and the network outputs it reads."""

    file: str
    features: list[dict]
    blend_with: str | None = None


class ModelCard(_Open):
    """The card of a model directory (a face model's, or the detector's)."""

    name: str
    version: str
    # multitask, separate, stacked, or pretrained (networks imported for a stack); the detector's has none.
    format: str | None = None
    # Network files by role as trained (Keras), and as served (ONNX) where exported.
    files: dict[str, str] = {}
    onnx_files: dict[str, str] = {}
    # The one crop every network of a single-input model takes, or each network's own crop.
    input: dict | None = None
    inputs: dict[str, dict] | None = None
    inference: Inference = Inference()
    head: Head | None = None
    labels: dict[str, list[str]] | None = None
    quantitative_analysis: dict[str, dict] = {}
    # The detector's one network and its checksum.
    file: str | None = None
    sha256: str | None = None

    @classmethod
    def load(cls, directory: Path) -> "ModelCard":
        """Read the card of a model directory, refusing a malformed one with the file's path."""
        path = Path(directory) / CARD
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            raise ModelCardError(f"{path}: {_reason(error)}") from None

    def updated(self, changes: dict) -> "ModelCard":
        """Return a copy with some fields replaced (and checked); the others keep their values and order."""
        return type(self).model_validate(self.model_dump(mode="json", exclude_unset=True) | changes)

    def save(self, directory: Path) -> None:
        """Write the card into a model directory: the fields it was read or built with, and no defaults."""
        data = self.model_dump(mode="json", exclude_unset=True)
        (Path(directory) / CARD).write_text(json.dumps(data, indent=1) + "\n")


def _reason(error: OSError | ValueError) -> str:
    """Return why a card could not be read, in one line."""
    if not isinstance(error, ValidationError):
        return getattr(error, "strerror", None) or str(error)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'card'}: {e['msg']}" for e in error.errors(include_url=False))
