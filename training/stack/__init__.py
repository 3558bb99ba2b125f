"""The stacked `default` model: pretrained networks' features, an MLP head, a blend with our CNN."""
