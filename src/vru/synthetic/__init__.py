"""Synthetic data generators for demos, tests and benchmarks.

Everything here is invented by seeded random draws: it never contains, and is never derived
record-by-record from, real personal data. Published aggregate figures (e.g. borough shares from
the MOPAC Public Attitude Survey) may be used as targets so that synthetic data look realistic.
"""
