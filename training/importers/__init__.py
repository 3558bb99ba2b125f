"""Importers that turn downloaded pretrained networks into ONNX files under models/."""
