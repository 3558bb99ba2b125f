"""Read Prometheus text the way Prometheus does."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """The samples of one scrape, by name and labels."""

    def __init__(self, text: str):
        self.families = list(text_string_to_metric_families(text))
        self.samples = [sample for family in self.families for sample in family.samples]

    def names(self) -> set[str]:
        """Return the name of every metric family."""
        return {family.name for family in self.families}

    def value(self, metric: str, /, **labels: str) -> float:
        """Return the sum of the samples of a metric whose labels include these (0 if none)."""
        return sum(s.value for s in self.samples if s.name == metric and labels.items() <= s.labels.items())
