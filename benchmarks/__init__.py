"""Benchmarks of the project and the readers of their committed results (``results/style_benchmark*.json``)."""
