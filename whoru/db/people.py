"""A people job's faces by person: their identity embeddings in, person labels out, and each person's figures."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from whoru.db.schema import Face, Image
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS, age_bin

# Stored as float16: half the bytes of float32, and cosines move by under 1e-3.
EMBEDDING_DTYPE = np.float16


def embedding_bytes(vector: np.ndarray | None) -> bytes | None:
    """Return an embedding as stored, or None for a face without one."""
    return None if vector is None else np.asarray(vector, dtype=EMBEDDING_DTYPE).tobytes()


def job_embeddings(session: Session, job_id: str) -> tuple[list[int], np.ndarray]:
    """Return a job's face ids with an embedding, in image position and face order, and their unit vectors."""
    rows = session.execute(
        select(Face.id, Face.embedding)
        .join(Image, Face.image_id == Image.id)
        .where(Image.job_id == job_id, Face.embedding.is_not(None))
        .order_by(Image.position, Face.index)
    ).all()
    vectors = np.zeros(
        (len(rows), len(rows[0].embedding) // np.dtype(EMBEDDING_DTYPE).itemsize if rows else 0), dtype=np.float32
    )
    for i, (_, blob) in enumerate(rows):
        vectors[i] = np.frombuffer(blob, dtype=EMBEDDING_DTYPE)
    return [face_id for face_id, _ in rows], vectors


def save_people(session: Session, face_ids: list[int], labels: list[str]) -> None:
    """Give each face its person label (the caller commits them all at once)."""
    if face_ids:
        session.execute(update(Face), [{"id": face_id, "person": label} for face_id, label in zip(face_ids, labels)])


@dataclass(frozen=True)
class PersonFace:
    """What one face contributes to its person's figures."""

    position: int
    image_size: tuple[int, int]
    box: tuple[float, float, float, float]
    area: float
    detection_score: float
    female: float
    ethnicity: list[float]
    age: float
    taken_year: int | None


def people_faces(session: Session, job_id: str, numbers: range | None = None) -> dict[str, list[PersonFace]]:
    """Return the faces of a job's people (those numbered in a range, or all), by person label, p1 first."""
    only = [] if numbers is None else [Face.person.in_([f"p{n}" for n in numbers])]
    rows = session.execute(
        select(Face, Image.position, Image.width, Image.height, Image.taken_at)
        .join(Image, Face.image_id == Image.id)
        .where(Image.job_id == job_id, Face.person.is_not(None), *only)
        .order_by(Image.position, Face.index)
    ).all()
    faces: dict[str, list[PersonFace]] = defaultdict(list)
    for face, position, width, height, taken_at in rows:
        female = face.gender_probability if face.gender == "female" else 1.0 - face.gender_probability
        faces[face.person].append(
            PersonFace(
                position,
                (width, height),
                (face.x, face.y, face.w, face.h),
                face.w * face.h,
                face.detection_score,
                female,
                face.ethnicity_probabilities,
                face.age,
                None if taken_at is None else taken_at.year,
            )
        )
    return dict(sorted(faces.items(), key=lambda item: int(item[0][1:])))


def person_json(label: str, faces: list[PersonFace]) -> dict:
    """Return a person's figures: counts, a representative face, mean gender and ethnicity, median age, birth year."""
    shown = max(faces, key=lambda face: (face.detection_score * face.area, -face.position))
    female = float(np.mean([face.female for face in faces]))
    ethnicity = np.mean([face.ethnicity for face in faces], axis=0)
    births = [face.taken_year - face.age for face in faces if face.taken_year is not None]
    return {
        "person": label,
        "faces": len(faces),
        "images": len({face.position for face in faces}),
        "face": {
            "image": shown.position,
            "image_width": shown.image_size[0],
            "image_height": shown.image_size[1],
            "box": dict(zip("xywh", shown.box)),
        },
        "gender": {"label": "female" if female >= 0.5 else "male", "female_probability": round(female, 4)},
        "ethnicity": {
            "label": ETHNICITIES[int(ethnicity.argmax())],
            "probabilities": {name: round(float(p), 4) for name, p in zip(ETHNICITIES, ethnicity)},
        },
        "age": _median_and_spread([face.age for face in faces]),
        "birth_year": _median_and_spread(births) if births else None,
    }


def job_people(session: Session, job_id: str, numbers: range | None = None) -> list[dict]:
    """Return the figures of a job's people (those numbered in a range, or all), p1 first."""
    return [person_json(label, faces) for label, faces in people_faces(session, job_id, numbers).items()]


def _median_and_spread(values: list[float]) -> dict:
    """Return the median of some values and their spread (the interquartile range's ends; the value itself alone)."""
    if len(values) == 1:
        return {"median": round(values[0], 1), "low": round(values[0], 1), "high": round(values[0], 1)}
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": round(statistics.median(values), 1), "low": round(low, 1), "high": round(high, 1)}


def people_counts(people: list[dict]) -> dict:
    """Return how many people there are by gender, ethnicity and age bin (of their median age)."""
    return {
        "people": len(people),
        "people_genders": _counted([person["gender"]["label"] for person in people], GENDERS),
        "people_ethnicities": _counted([person["ethnicity"]["label"] for person in people], ETHNICITIES),
        "people_age_bins": _counted(
            [AGE_BIN_NAMES[age_bin(person["age"]["median"])] for person in people], AGE_BIN_NAMES
        ),
    }


def _counted(values: list[str], labels) -> list[dict]:
    """Return a count for every label, in the labels' order."""
    return [{"label": label, "count": values.count(label)} for label in labels]
