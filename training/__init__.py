"""Data, model definitions, training and evaluation for whoru's models."""
