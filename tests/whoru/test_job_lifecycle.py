"""Every status change of a job, on a real migrated SQLite database: no worker, no Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from whoru.db.lifecycle import (
    PartRefused,
    add_part,
    cancel,
    close,
    close_idle,
    delete_jobs,
    ended_before,
    finish_if_complete,
    in_flight,
    is_running,
    mark_running,
    open_job,
    unfinished,
)
from whoru.db.schema import ApiKey, Face, Image, Job, Upload, utcnow
from whoru.db.statuses import ClosedBy, ImageStatus, JobStatus, WebhookStatus

MODEL = ("default", "v1")


def new_job(session, job_id: str, owner: int | None = None, **options) -> Job:
    """Open a job and flush it, so that the conditional updates see it."""
    job = open_job(session, job_id, owner, MODEL, **options)
    session.flush()
    return job


def part(session, job_id: str, n: int, names: list[str]) -> range:
    """Add part n of a job with one pending image per name; return the positions they took."""
    upload = Upload(position=n, filename=f"part{n}.zip", path=f"jobs/{job_id}/{n:05d}.bin", kind="zip", bytes=100)
    images = [{"name": name, "entry": i, "status": ImageStatus.PENDING} for i, name in enumerate(names)]
    return add_part(session, job_id, upload, images)


def set_images(session, job_id: str, status: ImageStatus, positions: list[int] | None = None) -> None:
    """Give images of a job (all, or those at some positions) a status, as a worker's task would."""
    condition = [Image.job_id == job_id] + ([] if positions is None else [Image.position.in_(positions)])
    session.execute(update(Image).where(*condition).values(status=status))


def job(session, job_id: str) -> Job:
    """Return a job as the database holds it now."""
    session.expire_all()
    return session.get(Job, job_id)


def test_a_new_job_is_open_queued_and_empty(sessions):
    with sessions() as session:
        new_job(session, "plain")
        new_job(session, "hooked", callback_url="https://example.com/hook")
        session.commit()
        plain, hooked = job(session, "plain"), session.get(Job, "hooked")
        assert (plain.status, plain.open, plain.images_total, plain.webhook_status) == (JobStatus.QUEUED, True, 0, None)
        assert (hooked.model_name, hooked.model_version) == MODEL
        assert hooked.webhook_status == WebhookStatus.PENDING


def test_parts_take_consecutive_positions_in_part_order(sessions):
    with sessions() as session:
        new_job(session, "j")
        assert part(session, "j", 0, ["a.jpg", "b.jpg"]) == range(0, 2)
        assert part(session, "j", 1, []) == range(2, 2)
        assert part(session, "j", 2, ["c.jpg", "d.jpg", "e.jpg"]) == range(2, 5)
        names = session.execute(
            select(Image.position, Image.name).where(Image.job_id == "j").order_by(Image.position)
        ).all()
        counts = session.scalars(select(Upload.image_count).where(Upload.job_id == "j").order_by(Upload.position)).all()
        assert job(session, "j").images_total == 5
    assert names == [(0, "a.jpg"), (1, "b.jpg"), (2, "c.jpg"), (3, "d.jpg"), (4, "e.jpg")]
    assert counts == [2, 0, 3]


def test_a_part_out_of_order_is_refused(sessions):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, ["a.jpg"])
        for n in (0, 2):
            with pytest.raises(PartRefused) as refused:
                part(session, "j", n, ["b.jpg"])
            assert refused.value.code == "part_out_of_order"
            assert "send part 1 next" in str(refused.value)
        assert job(session, "j").images_total == 1


@pytest.mark.parametrize("stop", [close, cancel])
def test_a_closed_or_canceled_job_takes_no_part(sessions, stop):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, ["a.jpg"])
        stop(session, "j")
        with pytest.raises(PartRefused) as refused:
            part(session, "j", 1, ["b.jpg"])
        assert refused.value.code == "job_closed"
        assert job(session, "j").images_total == 1


def test_closing_with_images_pending_leaves_the_job_in_flight(sessions):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, ["a.jpg", "b.jpg"])
        assert close(session, "j") is None
        closed = job(session, "j")
        assert (closed.open, closed.closed_by, closed.status) == (False, ClosedBy.CLIENT, JobStatus.QUEUED)
        assert closed.closed_at is not None
        assert closed.finished_at is None
        set_images(session, "j", ImageStatus.DONE, [0])
        assert finish_if_complete(session, "j") is None
        set_images(session, "j", ImageStatus.NO_FACE, [1])
        assert finish_if_complete(session, "j") == JobStatus.SUCCEEDED
        assert finish_if_complete(session, "j") is None, "a job ends once"
        ended = job(session, "j")
    assert ended.status == JobStatus.SUCCEEDED
    assert ended.finished_at is not None
    assert ended.error is None


def test_an_open_job_never_ends_even_with_every_image_done(sessions):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, ["a.jpg"])
        set_images(session, "j", ImageStatus.DONE)
        assert finish_if_complete(session, "j") is None
        assert job(session, "j").status == JobStatus.QUEUED
        assert close(session, "j") == JobStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("statuses", "outcome", "error"),
    [
        ([], JobStatus.FAILED, "the job was closed without any image"),
        ([ImageStatus.FAILED, ImageStatus.FAILED], JobStatus.FAILED, "every image failed"),
        ([ImageStatus.FAILED, ImageStatus.NO_FACE], JobStatus.SUCCEEDED, None),
    ],
)
def test_the_outcome_follows_the_images(sessions, statuses, outcome, error):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, [f"{i}.jpg" for i in range(len(statuses))])
        for position, status in enumerate(statuses):
            set_images(session, "j", status, [position])
        assert close(session, "j") == outcome
        assert job(session, "j").error == error


def test_closing_twice_keeps_the_first_close(sessions):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, ["a.jpg"])
        close(session, "j", ClosedBy.TIMEOUT)
        first = job(session, "j").closed_at
        close(session, "j", ClosedBy.CLIENT)
        again = job(session, "j")
    assert (again.closed_by, again.closed_at) == (ClosedBy.TIMEOUT, first)


def test_mark_running_moves_only_a_queued_job(sessions):
    with sessions() as session:
        new_job(session, "j")
        new_job(session, "stopped")
        assert not is_running(session, "j")
        assert mark_running(session, "j")
        assert is_running(session, "j")
        started = job(session, "j").started_at
        assert started is not None
        assert mark_running(session, "j")
        assert job(session, "j").started_at == started
        cancel(session, "stopped")
        assert not mark_running(session, "stopped")
        assert job(session, "stopped").status == JobStatus.CANCELED
        assert not mark_running(session, "gone")
        assert not is_running(session, "gone")


def test_cancel_stops_an_in_flight_job_once_and_nothing_ended(sessions):
    with sessions() as session:
        new_job(session, "j")
        part(session, "j", 0, ["a.jpg"])
        mark_running(session, "j")
        assert cancel(session, "j")
        canceled = job(session, "j")
        assert (canceled.status, canceled.open) == (JobStatus.CANCELED, False)
        assert canceled.finished_at is not None
        assert not cancel(session, "j")
        set_images(session, "j", ImageStatus.DONE)
        assert finish_if_complete(session, "j") is None
        assert job(session, "j").status == JobStatus.CANCELED
        new_job(session, "ended")
        close(session, "ended")
        assert not cancel(session, "ended")
        assert job(session, "ended").status == JobStatus.FAILED


def test_close_idle_closes_only_open_jobs_without_a_recent_part(sessions):
    now = utcnow()
    with sessions() as session:
        for job_id in ("idle-done", "idle-pending", "active", "closed"):
            new_job(session, job_id)
            part(session, job_id, 0, ["a.jpg"])
        set_images(session, "idle-done", ImageStatus.DONE)
        close(session, "closed")
        session.execute(update(Job).where(Job.id != "active").values(active_at=now - timedelta(hours=2)))
        closed = close_idle(session, now - timedelta(hours=1))
        assert sorted(closed) == [("idle-done", JobStatus.SUCCEEDED), ("idle-pending", None)]
        assert job(session, "idle-pending").closed_by == ClosedBy.TIMEOUT
        assert job(session, "active").open
        assert job(session, "closed").closed_by == ClosedBy.CLIENT


def test_ended_before_and_unfinished_list_the_right_jobs(sessions):
    now = utcnow()
    with sessions() as session:
        for job_id in ("old-succeeded", "old-canceled", "old-running", "new-failed", "queued"):
            new_job(session, job_id)
        part(session, "old-succeeded", 0, ["a.jpg"])
        set_images(session, "old-succeeded", ImageStatus.DONE)
        close(session, "old-succeeded")
        cancel(session, "old-canceled")
        mark_running(session, "old-running")
        close(session, "new-failed")
        session.execute(update(Job).where(Job.id.startswith("old-")).values(created_at=now - timedelta(days=40)))
        assert sorted(ended_before(session, now - timedelta(days=30))) == ["old-canceled", "old-succeeded"]
        assert sorted(unfinished(session)) == ["old-running", "queued"]


def test_in_flight_counts_one_keys_queued_and_running_jobs(sessions):
    with sessions() as session:
        mine, theirs = ApiKey(name="mine", key_hash="a" * 64), ApiKey(name="theirs", key_hash="b" * 64)
        session.add_all([mine, theirs])
        session.flush()
        for job_id, owner in (("q", mine.id), ("r", mine.id), ("c", mine.id), ("t", theirs.id)):
            new_job(session, job_id, owner)
        mark_running(session, "r")
        cancel(session, "c")
        assert session.scalar(select(func.count()).where(in_flight(mine.id))) == 2
        assert session.scalar(select(func.count()).where(in_flight(theirs.id))) == 1


def test_deleting_jobs_removes_their_uploads_images_and_faces(sessions):
    with sessions() as session:
        for job_id in ("gone", "kept"):
            new_job(session, job_id)
            part(session, job_id, 0, ["a.jpg"])
        image = session.scalar(select(Image.id).where(Image.job_id == "gone"))
        session.add(
            Face(
                image_id=image,
                index=0,
                x=0,
                y=0,
                w=1,
                h=1,
                detection_score=0.9,
                landmarks=[],
                age=30,
                age_bin="21-40",
                gender="female",
                gender_probability=0.9,
                ethnicity="white",
                ethnicity_probabilities=[1, 0, 0, 0, 0],
            )
        )
        session.commit()
        delete_jobs(session, ["gone"])
        session.commit()
        left = {
            table.__name__: session.scalar(select(func.count()).select_from(table))
            for table in (Job, Upload, Image, Face)
        }
    assert left == {"Job": 1, "Upload": 1, "Image": 1, "Face": 0}
