"""Celery workers: split jobs into tasks, run the face pipeline, write rows."""
