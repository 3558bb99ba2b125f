"""The keys under which a job's uploads and previews are stored, and removing them."""

from __future__ import annotations

from whoru.storage.store import Store


def job_prefix(job_id: str) -> str:
    """Return the prefix of a job's uploads."""
    return f"jobs/{job_id}/"


def part_key(job_id: str, n: int) -> str:
    """Return the key of part n of a job."""
    return f"{job_prefix(job_id)}{n:05d}.bin"


def preview_prefix(job_id: str) -> str:
    """Return the prefix of a job's previews (apart from its uploads: those go when the job ends)."""
    return f"previews/{job_id}/"


def preview_key(job_id: str, position: int) -> str:
    """Return the key of the preview of a job's image at a position."""
    return f"{preview_prefix(job_id)}{position}.jpg"


def remove_job_files(store: Store, job_id: str) -> None:
    """Delete a job's stored uploads (its results and previews stay)."""
    store.delete_prefix(job_prefix(job_id))


def remove_deleted_job_files(store: Store, job_id: str) -> None:
    """Delete everything stored for a job whose rows are gone: its uploads and its previews."""
    remove_job_files(store, job_id)
    store.delete_prefix(preview_prefix(job_id))
