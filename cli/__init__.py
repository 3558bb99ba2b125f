"""The `whoru` console script and the operator commands: serve, db, keys, purge."""
