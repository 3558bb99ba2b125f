"""`whoru bench`: end-to-end throughput, per-stage time, memory and status latency, measured."""
