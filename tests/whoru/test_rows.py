"""A task's outcome is written so that writing it again (a task delivered twice) leaves one set of rows."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from whoru.db.lifecycle import add_part, open_job
from whoru.db.rows import ImageOutcome, save_outcomes
from whoru.db.schema import Face, Image, Upload
from whoru.db.statuses import ImageStatus
from whoru.faces.detector import Detection
from whoru.faces.pipeline import FaceResult


def face(x: float, age: float) -> FaceResult:
    """Return a face result at x with an age."""
    detection = Detection((x, 10.0, 50.0, 60.0), np.arange(10, dtype=float).reshape(5, 2) + x, 0.91234)
    return FaceResult(detection, age, "21-40", "female", 0.876543, "white", [0.6, 0.1, 0.1, 0.1, 0.1], 25.04, None)


def pending_images(session, names: list[str]) -> list[int]:
    """Add a job with one pending image per name; return their ids."""
    open_job(session, "j", None, ("default", "v1"))
    session.flush()
    add_part(
        session,
        "j",
        Upload(position=0, filename="p.zip", path="p", kind="zip"),
        [{"name": name, "entry": i, "status": ImageStatus.PENDING} for i, name in enumerate(names)],
    )
    return list(session.scalars(select(Image.id).where(Image.job_id == "j").order_by(Image.position)))


def stored(session, image_id: int) -> tuple[Image, list[Face]]:
    """Return an image and its faces as the database holds them."""
    faces = select(Face).where(Face.image_id == image_id).order_by(Face.index).execution_options(populate_existing=True)
    return session.get(Image, image_id, populate_existing=True), list(session.scalars(faces))


def test_writing_an_image_again_replaces_its_faces(sessions):
    with sessions() as session:
        [image_id] = pending_images(session, ["a.jpg"])
        save_outcomes(session, [ImageOutcome(image_id, 640, 480, [face(1, 30), face(100, 40)])])
        session.commit()
        save_outcomes(session, [ImageOutcome(image_id, 640, 480, [face(5, 35)])])
        session.commit()
        image, faces = stored(session, image_id)
        assert (image.status, image.face_count, image.width, image.height) == (ImageStatus.DONE, 1, 640, 480)
        assert [(f.index, f.x, f.age) for f in faces] == [(0, 5.0, 35.0)]


def test_the_same_outcome_written_twice_is_one_set_of_rows(sessions):
    with sessions() as session:
        ids = pending_images(session, ["a.jpg", "b.jpg"])
        outcomes = [
            ImageOutcome(ids[0], 10, 10, [face(1, 30), face(2, 31)]),
            ImageOutcome(ids[1], 10, 10, [face(3, 32)]),
        ]
        for _ in range(2):
            save_outcomes(session, outcomes)
            session.commit()
        counts = [(stored(session, i)[0].face_count, len(stored(session, i)[1])) for i in ids]
    assert counts == [(2, 2), (1, 1)]


def test_statuses_and_errors_come_from_the_outcome(sessions):
    with sessions() as session:
        done, empty, broken = pending_images(session, ["a.jpg", "b.jpg", "c.jpg"])
        save_outcomes(
            session,
            [
                ImageOutcome(done, 1, 1, [face(1, 30)]),
                ImageOutcome(empty, 1, 1, []),
                ImageOutcome(broken, error_code="corrupt_image", error_message="truncated"),
            ],
        )
        session.commit()
        images = {i: stored(session, i) for i in (done, empty, broken)}
    assert (images[done][0].status, len(images[done][1])) == (ImageStatus.DONE, 1)
    assert (images[empty][0].status, images[empty][1]) == (ImageStatus.NO_FACE, [])
    failed = images[broken][0]
    assert (failed.status, failed.error_code, failed.error_message, failed.face_count) == (
        ImageStatus.FAILED,
        "corrupt_image",
        "truncated",
        0,
    )


def test_a_face_row_is_rounded_for_storage(sessions):
    with sessions() as session:
        [image_id] = pending_images(session, ["a.jpg"])
        save_outcomes(session, [ImageOutcome(image_id, 1, 1, [face(1.26, 30.04)])])
        session.commit()
        [row] = stored(session, image_id)[1]
    assert (row.x, row.age, row.detection_score, row.gender_probability, row.age_low, row.age_high) == (
        1.3,
        30.0,
        0.9123,
        0.8765,
        25.0,
        None,
    )
    assert row.landmarks[0] == [1.3, 2.3] and row.ethnicity_probabilities == [0.6, 0.1, 0.1, 0.1, 0.1]


def test_nothing_to_write_writes_nothing(sessions):
    with sessions() as session:
        [image_id] = pending_images(session, ["a.jpg"])
        save_outcomes(session, [])
        session.commit()
        assert stored(session, image_id)[0].status == ImageStatus.PENDING
