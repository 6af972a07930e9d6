"""Benchmarks: numbers to compare between runs, never pass/fail (``make bench``).

- ``benchmarks.micro``: the pure rules (working days, appeal deadline, webhook signatures), with pytest-benchmark;
- ``benchmarks.intake_api``: POST /v1/cases against real PostgreSQL and Kafka, beside a bare FastAPI insert;
- ``benchmarks.pipeline``: cases submitted to intake until scheduling has booked them, beside a raw Kafka round trip.

``python -m benchmarks.run`` runs them all; each prints a table and writes JSON under ``benchmarks/results/``.
"""
