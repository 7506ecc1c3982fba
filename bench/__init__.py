"""Benchmarks (not tests): `python -m bench.turns`."""
