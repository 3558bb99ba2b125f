"""whoru: age, gender and ethnicity for every face in bulk photo collections.

The public names load on first use: `import whoru` (done by every module of the package) loads
no image or model library, so the API and the database layer stay light.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Client", "Face", "ImageError", "Job", "analyze"]


def __getattr__(name: str):
    """Import a public name the first time it is asked for."""
    if name == "analyze":
        from whoru.analysis import analyze as value
    elif name == "Face":
        from whoru.faces.face import Face as value
    elif name == "ImageError":
        from whoru.faces.images import ImageError as value
    elif name in ("Client", "Job"):
        # The client of a running service lives above the core, with the CLI's upload code; this
        # is the core's one import from above, allowed by name in pyproject.toml's layer contract.
        from whoru.client import jobs

        value = getattr(jobs, name)
    else:
        raise AttributeError(f"module 'whoru' has no attribute {name!r}")
    globals()[name] = value
    return value
