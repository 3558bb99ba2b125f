"""What each worker process loads once, after the fork: settings, database, the detector and every served model."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import cv2
from celery.signals import beat_embedded_init, worker_process_init
from sqlalchemy.orm import Session, sessionmaker

from whoru.children import stop_with_parent
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.faces.detector import FaceDetector
from whoru.faces.identity import IdentityNet
from whoru.faces.model import FaceModel
from whoru.faces.pipeline import FacePipeline
from whoru.logs import configure_logging, get_logger
from whoru.served_models import served_models
from whoru.settings import Settings, get_settings

log = get_logger("worker")


@dataclass
class ProcessState:
    """The per-process singletons tasks use."""

    settings: Settings
    sessions: sessionmaker[Session]
    # One pipeline per served model, by name, sharing one detector; the default first.
    pipelines: dict[str, FacePipeline]

    def pipeline(self, model_name: str) -> FacePipeline | None:
        """Return the pipeline of a model this process serves, or None."""
        return self.pipelines.get(model_name)


_state: ProcessState | None = None


@worker_process_init.connect
def _load(**_kwargs) -> None:
    """Load the detector and model in each child process: runtime thread pools do not survive a fork."""
    _stop_with_worker()
    # Linux keeps a nice value per thread and a new thread inherits its creator's, so this comes
    # before loading: ONNX Runtime's and OpenCV's pools start during the load.
    _lower_priority()
    load()


@beat_embedded_init.connect
def _stop_with_worker(**_kwargs) -> None:
    """Die with the worker's main process, even when it is SIGKILLed (pool processes and the embedded beat)."""
    # Left behind, such a process holds memory and a beat schedule for nothing: tasks are
    # acknowledged late, so the next worker runs the task a killed pool process had.
    stop_with_parent(signal.SIGKILL)


@beat_embedded_init.connect
def _lower_priority(**_kwargs) -> None:
    """Run batch work (pool processes and the embedded beat) at the worker's nice value.

    Batch work yields to interactive work: where the API shares cores with workers, status
    requests are answered first; on a machine that only runs workers this changes nothing.
    """
    nice = get_settings().worker_nice
    if nice > 0:
        os.nice(nice)


def load() -> ProcessState:
    """Build this process's state from the environment."""
    global _state
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    # Several worker processes share the cores already; OpenCV's own pool (one thread per core
    # by default) or ONNX Runtime's would oversubscribe them.
    cv2.setNumThreads(settings.threads)
    detector = FaceDetector(settings.detector, settings.detect_score, settings.detect_max_side, settings.threads)
    identity = IdentityNet(settings.identity_model, settings.threads)
    pipelines = {
        name: FacePipeline(detector, FaceModel(served.directory, settings.threads), identity)
        for name, served in served_models(settings).items()
    }
    _state = ProcessState(settings, make_sessionmaker(make_engine(settings.database_url)), pipelines)
    default = next(iter(pipelines.values())).model
    log.info(
        "worker process ready model=%s version=%s models=%s",
        default.name,
        default.version,
        ",".join(f"{p.model.name}:{p.model.version}" for p in pipelines.values()),
    )
    return _state


def get() -> ProcessState:
    """Return this process's state, loading it on first use (solo pool, tests)."""
    return _state or load()
