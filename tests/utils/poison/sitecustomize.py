"""Test-only: makes a worker process die on images whose bytes start with b"POISON".

Put this folder on PYTHONPATH of a worker to simulate an image that crashes the decoder.
"""

import os

from celery.signals import worker_process_init


@worker_process_init.connect
def _plant(**_kwargs):
    from whoru.faces.photo import Photo

    real = Photo.decode

    def decode_or_die(data, *args, **kwargs):
        if data.startswith(b"POISON"):
            os._exit(9)
        return real(data, *args, **kwargs)

    Photo.decode = decode_or_die
