"""whoru: age, gender and ethnicity for every face in bulk photo collections."""

__version__ = "0.1.0"
